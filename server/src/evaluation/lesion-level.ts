/**
 * Lesion-level results: how many reference lesions were localised (IoU > 0.2), how many were
 * missed entirely (no overlap at all), the false-positive boxes, and the free-response curve.
 */
import type { PatientCase } from './cases';
import { matchRadiograph } from './matching';
import { proportion, type Proportion } from './statistics/proportion';

export interface FalsePositiveBoxes {
  total: number;
  perRadiograph: number;
  perPatient: number;
  /** Radiographs with at least one false-positive box, of all radiographs. */
  radiographsWithAny: Proportion;
  /** Boxes on the radiographs without any reference lesion, per such radiograph. */
  perNormalRadiograph: number;
}

export interface LesionLevelResult {
  lesions: number;
  localised: Proportion;
  /** Overlapping a predicted box, but never above IoU 0.2 with an unmatched one. */
  poorlyLocalised: number;
  /** No predicted box overlaps the lesion at all (IoU = 0). */
  missedEntirely: number;
  falsePositiveBoxes: FalsePositiveBoxes;
}

export interface FrocPoint {
  /** Boxes with at least this confidence are kept. */
  minimumConfidence: number;
  lesionSensitivity: number;
  falsePositivesPerRadiograph: number;
}

/** Scores the boxes as given: keep the operating ones first (see operatingBoxes). */
export function lesionLevel(patients: readonly PatientCase[]): LesionLevelResult {
  let lesions = 0;
  let localised = 0;
  let missedEntirely = 0;
  let falsePositives = 0;
  let radiographs = 0;
  let radiographsWithFalsePositive = 0;
  let normalRadiographs = 0;
  let boxesOnNormalRadiographs = 0;
  for (const radiograph of patients.flatMap((patient) => patient.radiographs)) {
    const match = matchRadiograph(radiograph.boxes, radiograph.lesions);
    const unmatched = match.lesionOfPrediction.filter((lesion) => lesion === undefined).length;
    radiographs++;
    lesions += radiograph.lesions.length;
    localised += match.predictionOfLesion.filter((prediction) => prediction !== undefined).length;
    missedEntirely += match.bestIou.filter((iou) => iou === 0).length;
    falsePositives += unmatched;
    if (unmatched > 0) radiographsWithFalsePositive++;
    if (radiograph.lesions.length === 0) {
      normalRadiographs++;
      boxesOnNormalRadiographs += radiograph.boxes.length;
    }
  }
  return {
    lesions,
    localised: proportion(localised, lesions),
    poorlyLocalised: lesions - localised - missedEntirely,
    missedEntirely,
    falsePositiveBoxes: {
      total: falsePositives,
      perRadiograph: falsePositives / radiographs,
      perPatient: falsePositives / patients.length,
      radiographsWithAny: proportion(radiographsWithFalsePositive, radiographs),
      perNormalRadiograph: boxesOnNormalRadiographs / normalRadiographs,
    },
  };
}

/**
 * The free-response curve over every confidence level. Matching is greedy from the most confident
 * box, so the matches made with the boxes above any threshold are the first matches of the full
 * run: one matching per radiograph gives the whole curve.
 */
export function frocCurve(patients: readonly PatientCase[]): FrocPoint[] {
  const radiographs = patients.flatMap((patient) => patient.radiographs);
  const lesions = radiographs.reduce((total, radiograph) => total + radiograph.lesions.length, 0);
  const scored = radiographs.flatMap((radiograph) => {
    const match = matchRadiograph(radiograph.boxes, radiograph.lesions);
    return radiograph.boxes.map((box, index) => ({
      confidence: box.confidence,
      localises: match.lesionOfPrediction[index] !== undefined,
    }));
  });
  scored.sort((a, b) => b.confidence - a.confidence);
  const points: FrocPoint[] = [];
  let truePositives = 0;
  let falsePositives = 0;
  scored.forEach((box, index) => {
    if (box.localises) truePositives++;
    else falsePositives++;
    if (scored[index + 1]?.confidence === box.confidence) return;
    points.push({
      minimumConfidence: box.confidence,
      lesionSensitivity: lesions === 0 ? 0 : truePositives / lesions,
      falsePositivesPerRadiograph: falsePositives / radiographs.length,
    });
  });
  return points;
}
