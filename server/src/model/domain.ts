/**
 * How far a view lies from the images a model was trained and validated on. Each fold exposes its
 * pooled features of the identity pass; the statistics file holds, per fold, the training images'
 * mean and the lower Cholesky factor L of their (shrunk) inverse covariance, so that the fold's
 * Mahalanobis distance is |L^T (x - mean)|. The view's distance is the mean over folds: one
 * number, compared with the threshold chosen on held-out training-domain images
 * (models/training/measure_domain.py writes both).
 */
import { z } from 'zod';
import { KneeTumorError } from '../errors';
import { describeIssues } from '../validation-issues';

const StatisticsSchema = z.object({
  kind: z.literal('knee-tumor-domain-statistics'),
  schemaVersion: z.literal(1),
  layer: z.string().min(1),
  featureCount: z.number().int().positive(),
  folds: z
    .array(
      z.object({
        fold: z.number().int().nonnegative(),
        mean: z.array(z.number()),
        /** Row-major lower triangle of L: row i holds i + 1 values. */
        precisionCholesky: z.array(z.number()),
      }),
    )
    .min(1),
});

interface FoldDistribution {
  mean: Float64Array;
  /** Packed lower triangle, row-major. */
  cholesky: Float64Array;
}

export interface DomainModel {
  layer: string;
  featureCount: number;
  threshold: number;
  folds: Map<number, FoldDistribution>;
}

/** Validates a statistics file against the manifest's folds; any mismatch is model-invalid. */
export function parseDomainStatistics(bytes: Uint8Array, threshold: number, foldIds: number[]): DomainModel {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new KneeTumorError('model-invalid', 'the domain statistics are not JSON', { cause });
  }
  const parsed = StatisticsSchema.safeParse(json);
  if (!parsed.success) throw new KneeTumorError('model-invalid', `the domain statistics are invalid: ${describeIssues(parsed.error)}`);
  const { layer, featureCount, folds } = parsed.data;
  const packed = (featureCount * (featureCount + 1)) / 2;
  const distributions = new Map<number, FoldDistribution>();
  for (const f of folds) {
    if (f.mean.length !== featureCount || f.precisionCholesky.length !== packed) {
      throw new KneeTumorError('model-invalid', `the domain statistics of fold ${f.fold} do not have ${featureCount} features`);
    }
    distributions.set(f.fold, { mean: Float64Array.from(f.mean), cholesky: Float64Array.from(f.precisionCholesky) });
  }
  const missing = foldIds.filter((id) => !distributions.has(id));
  if (missing.length > 0) throw new KneeTumorError('model-invalid', `the domain statistics have no fold ${missing.join(', ')}`);
  return { layer, featureCount, threshold, folds: distributions };
}

/** One fold's Mahalanobis distance of a pooled feature vector to its training distribution. */
export function foldDistance(features: ArrayLike<number>, distribution: FoldDistribution): number {
  const { mean, cholesky } = distribution;
  const n = mean.length;
  // y = L^T (x - mean): y_j = sum over i >= j of L[i][j] (x_i - mean_i); row i starts at i(i+1)/2.
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const centred = (features[i] ?? 0) - (mean[i] ?? 0);
    const row = (i * (i + 1)) / 2;
    for (let j = 0; j <= i; j++) y[j] = (y[j] ?? 0) + (cholesky[row + j] ?? 0) * centred;
  }
  let sum = 0;
  for (const v of y) sum += v * v;
  return Math.sqrt(sum);
}
