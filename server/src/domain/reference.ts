/**
 * A reference standard (ground truth) for a set of knee studies: per patient the two views and
 * the lesion boxes a radiologist drew. The phantom generator writes it; the evaluation toolkit and
 * the training recipe read it. Image ids are SOP Instance UIDs so that predictions made from the
 * DICOM files match without file names.
 */
import type { PixelBox, ViewName, Laterality } from './analysis';

export interface ReferenceImage {
  imageId: string;
  view: ViewName;
  width: number;
  height: number;
  /** Reference lesion boxes; empty on a normal radiograph. */
  boxes: PixelBox[];
  /** Path of the DICOM file relative to the reference file, when the set ships its files. */
  file?: string;
}

export interface ReferencePatient {
  patientId: string;
  studyInstanceUid?: string;
  /** True when the patient has a tumor (the reference standard, e.g. histopathology). */
  tumor: boolean;
  laterality?: Laterality;
  /** Subgroup attributes: center, ageYears, manufacturer, model, lesion kind, size... */
  attributes?: Record<string, string | number>;
  images: ReferenceImage[];
}

export interface ReferenceSet {
  kind: 'knee-tumor-reference';
  schemaVersion: 1;
  description?: string;
  patients: ReferencePatient[];
}
