/**
 * The evaluation's working data: each reference patient with its two radiographs, the reference
 * lesions on each, and one rater's boxes on each (the model's, or a reader's with confidence 1).
 */
import type { PixelBox, ViewName } from '../domain/analysis';
import type { ScoredBox } from './matching';

export interface RadiographCase {
  imageId: string;
  view: ViewName;
  lesions: PixelBox[];
  boxes: ScoredBox[];
}

export interface PatientCase {
  patientId: string;
  tumor: boolean;
  attributes: Record<string, string | number>;
  radiographs: RadiographCase[];
}

/** The method's patient score: the highest box confidence over both views, 0 without boxes. */
export function patientScore(patient: PatientCase): number {
  return Math.max(0, ...patient.radiographs.flatMap((radiograph) => radiograph.boxes.map((box) => box.confidence)));
}

/**
 * Keeps the boxes at or above the operating threshold: a radiograph is positive when it has one,
 * and a patient when either view is. "At or above" is the rule the analysis pipeline applies
 * (pipeline/decide.ts), so its own output evaluates to its own decisions. A reader's boxes
 * (confidence 1) all pass.
 */
export function operatingBoxes(patients: readonly PatientCase[], threshold: number): PatientCase[] {
  return patients.map((patient) => ({
    ...patient,
    radiographs: patient.radiographs.map((radiograph) => ({
      ...radiograph,
      boxes: radiograph.boxes.filter((box) => box.confidence >= threshold),
    })),
  }));
}

export function isPositive(patient: PatientCase): boolean {
  return patient.radiographs.some((radiograph) => radiograph.boxes.length > 0);
}
