/**
 * Matching predicted boxes to reference lesions on one radiograph, as the method scores
 * localisation: a prediction localises a lesion when IoU > 0.2; matching is one-to-one and the
 * most confident prediction chooses first, taking the unmatched lesion it overlaps most.
 */
import type { PixelBox } from '../domain/analysis';

export const LOCALISATION_IOU = 0.2;

export interface ScoredBox extends PixelBox {
  confidence: number;
}

export interface RadiographMatch {
  /** Per predicted box, in the order given: the index of the lesion it localises, or undefined. */
  lesionOfPrediction: (number | undefined)[];
  /** Per reference lesion: the index of the predicted box that localises it, or undefined. */
  predictionOfLesion: (number | undefined)[];
  /** Per reference lesion: the highest IoU with any predicted box (0 = missed entirely). */
  bestIou: number[];
}

export function intersectionOverUnion(a: PixelBox, b: PixelBox): number {
  const overlapWidth = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const overlapHeight = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (overlapWidth <= 0 || overlapHeight <= 0) return 0;
  const intersection = overlapWidth * overlapHeight;
  return intersection / (a.width * a.height + b.width * b.height - intersection);
}

/** Boxes of equal confidence (a reader's, which have none) keep their given order. */
export function matchRadiograph(predicted: readonly ScoredBox[], lesions: readonly PixelBox[]): RadiographMatch {
  const lesionOfPrediction = new Array<number | undefined>(predicted.length).fill(undefined);
  const predictionOfLesion = new Array<number | undefined>(lesions.length).fill(undefined);
  const bestIou = lesions.map((lesion) => Math.max(0, ...predicted.map((box) => intersectionOverUnion(box, lesion))));
  const order = predicted.map((_, index) => index).sort((a, b) => (predicted[b] as ScoredBox).confidence - (predicted[a] as ScoredBox).confidence);
  for (const p of order) {
    let chosen: number | undefined;
    let chosenIou = LOCALISATION_IOU;
    lesions.forEach((lesion, l) => {
      if (predictionOfLesion[l] !== undefined) return;
      const iou = intersectionOverUnion(predicted[p] as ScoredBox, lesion);
      if (iou > chosenIou) {
        chosen = l;
        chosenIou = iou;
      }
    });
    if (chosen !== undefined) {
      lesionOfPrediction[p] = chosen;
      predictionOfLesion[chosen] = p;
    }
  }
  return { lesionOfPrediction, predictionOfLesion, bestIou };
}
