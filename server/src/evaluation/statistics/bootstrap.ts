/**
 * Percentile bootstrap interval of the AUC, resampling tumor patients and normal patients
 * separately so that every replicate keeps the test set's prevalence. Seeded, so reproducible.
 */
import type { AucWithInterval } from './auc-types';
import { randomIndex, seededRandom } from './random';
import { areaUnderCurve } from './roc';

/** The q-quantile of sorted values with linear interpolation between order statistics. */
export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}

export function bootstrapAuc(
  scores: readonly number[],
  tumor: readonly boolean[],
  replicates: number,
  seed: number,
): AucWithInterval {
  const random = seededRandom(seed);
  const positiveScores = scores.filter((_, index) => tumor[index]);
  const negativeScores = scores.filter((_, index) => !tumor[index]);
  const labels = [...positiveScores.map(() => true), ...negativeScores.map(() => false)];
  const draw = (from: readonly number[]): number[] =>
    from.map(() => from[randomIndex(random, from.length)] as number);
  const areas: number[] = [];
  for (let r = 0; r < replicates; r++) {
    areas.push(areaUnderCurve([...draw(positiveScores), ...draw(negativeScores)], labels));
  }
  areas.sort((a, b) => a - b);
  const mean = areas.reduce((a, b) => a + b, 0) / replicates;
  const variance = areas.reduce((a, area) => a + (area - mean) ** 2, 0) / (replicates - 1);
  return {
    value: areaUnderCurve(scores, tumor),
    standardError: Math.sqrt(variance),
    ci95: { lower: quantile(areas, 0.025), upper: quantile(areas, 0.975) },
    method: 'bootstrap',
    replicates,
    seed,
  };
}
