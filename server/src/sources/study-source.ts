/**
 * Where a study comes from: a DICOMweb server or a folder of files. Both describe each image by
 * the attributes that identify its view, and hand over its Part 10 bytes.
 */
import type { InstanceRef } from '../domain/analysis';
import type { KneeTumorError } from '../errors';
import type { ViewCandidate } from '../domain/view-candidate';

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
  /**
   * The refusal of a study as it is, or told as what the source could not read where that may be
   * its cause (a folder's damaged DICOM file that may hold the missing view).
   */
  explainRefusal?(refusal: KneeTumorError): Promise<KneeTumorError>;
}
