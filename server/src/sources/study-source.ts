/**
 * Where a study comes from: a DICOMweb server or a folder of files. Both describe each image by
 * the attributes that identify its view, and hand over its Part 10 bytes.
 */
import type { InstanceRef } from '../domain/analysis';

/** One item of a code sequence, e.g. "R-10206" (SRT) "antero-posterior". */
export interface CodedEntry {
  value?: string;
  /** CodingSchemeDesignator, e.g. "SCT" or "SRT". */
  scheme?: string;
  meaning?: string;
}

/** The attributes of one image that locate-study reads to find its view and body part (never file names). */
export interface ViewCandidate {
  instance: InstanceRef;
  patientId?: string;
  modality: string;
  sopClassUid?: string;
  viewPosition?: string;
  imageLaterality?: string;
  /** Series-level Laterality (0020,0060). */
  laterality?: string;
  bodyPartExamined?: string;
  seriesDescription?: string;
  protocolName?: string;
  studyDescription?: string;
  requestedProcedureDescription?: string;
  performedProcedureStepDescription?: string;
  /** The Anatomic Region Sequence (0008,2218), e.g. 72696002 (SCT) "Knee". */
  anatomicRegions: CodedEntry[];
  /** The View Code Sequence, e.g. "R-10206" (SRT) "antero-posterior". */
  viewCodes: CodedEntry[];
  seriesNumber?: number;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
}

export interface RetrievedInstance {
  bytes: Uint8Array;
  transferSyntaxUid: string;
}

export interface StudySource {
  /** A description free of patient data, for messages: "DICOMweb http://pacs/dicom-web". */
  readonly description: string;
  /** Whether the source can transcode on request (a DICOMweb server can, a folder cannot). */
  readonly canTranscode: boolean;
  /** Every image of the study, described by its view attributes. */
  listCandidates(studyInstanceUid: string): Promise<ViewCandidate[]>;
  /** The Part 10 bytes, in the stored transfer syntax ('*') or transcoded to the one named. */
  retrievePart10(instance: InstanceRef, transferSyntaxUid: '*' | string): Promise<RetrievedInstance>;
}
