/**
 * The attributes of one image that identify its view and body part, read from its DICOM header
 * (a file's or a QIDO-RS answer's) and never from file names.
 */
import type { InstanceRef } from './analysis';

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
  /** Issuer of Patient ID (0010,0021): the Patient ID is unique only within it. */
  issuerOfPatientId?: string;
  /** Patient's Name as stored, e.g. "DOE^JANE" (the Alphabetic group of a DICOM JSON name). */
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
  modality: string;
  /** Unknown where the source does not state it: then the image is not taken for a radiograph. */
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
