/**
 * The patient-level ROC curve of a continuous score (the highest box confidence over both views)
 * against the reference, its area, and the Youden-optimal threshold.
 */
import { midranks } from './ranks';

export interface RocPoint {
  /**
   * A patient is positive when its score is at or above this threshold, as at the operating
   * point; null on the first point, where no patient is positive.
   */
  threshold: number | null;
  falsePositiveRate: number;
  truePositiveRate: number;
}

export interface YoudenPoint {
  threshold: number | null;
  sensitivity: number;
  specificity: number;
  youdenIndex: number;
}

/** Points from (0, 0) to (1, 1), one per distinct score. */
export function rocCurve(scores: readonly number[], tumor: readonly boolean[]): RocPoint[] {
  const positives = tumor.filter(Boolean).length;
  const negatives = tumor.length - positives;
  const distinct = [...new Set(scores)].sort((a, b) => b - a);
  const points: RocPoint[] = [{ threshold: null, falsePositiveRate: 0, truePositiveRate: 0 }];
  for (const score of distinct) {
    let truePositives = 0;
    let falsePositives = 0;
    scores.forEach((candidate, patient) => {
      if (candidate < score) return;
      if (tumor[patient]) truePositives++;
      else falsePositives++;
    });
    points.push({
      threshold: score,
      falsePositiveRate: negatives === 0 ? 0 : falsePositives / negatives,
      truePositiveRate: positives === 0 ? 0 : truePositives / positives,
    });
  }
  return points;
}

/** Area under the ROC curve: the probability that a tumor patient outscores a normal one (ties count half). */
export function areaUnderCurve(scores: readonly number[], tumor: readonly boolean[]): number {
  const ranks = midranks(scores);
  let positives = 0;
  let rankSum = 0;
  ranks.forEach((rank, index) => {
    if (!tumor[index]) return;
    positives++;
    rankSum += rank;
  });
  const negatives = scores.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The point maximising sensitivity + specificity - 1; ties go to the higher threshold (fewer recalls). */
export function youdenOptimal(curve: readonly RocPoint[]): YoudenPoint {
  let best: YoudenPoint | undefined;
  for (const point of curve) {
    const youdenIndex = point.truePositiveRate - point.falsePositiveRate;
    if (best === undefined || youdenIndex > best.youdenIndex) {
      best = {
        threshold: point.threshold,
        sensitivity: point.truePositiveRate,
        specificity: 1 - point.falsePositiveRate,
        youdenIndex,
      };
    }
  }
  if (best === undefined) throw new RangeError('an ROC curve has at least its starting point');
  return best;
}
