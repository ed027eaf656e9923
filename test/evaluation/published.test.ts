/**
 * Published numbers: the method's internal-test confusion counts, Hanley and McNeil's (1982) CT
 * rating example for the AUC, and the closed forms of the Clopper-Pearson interval at 0 and n.
 */
import { clopperPearson } from '../../server/src/evaluation/statistics/binomial';
import { metricsFromCounts } from '../../server/src/evaluation/statistics/confusion';
import { areaUnderCurve } from '../../server/src/evaluation/statistics/roc';

describe('the method\'s internal test set (TP 124, FN 3, TN 143, FP 7; 277 patients)', () => {
  const metrics = metricsFromCounts({ truePositive: 124, falseNegative: 3, trueNegative: 143, falsePositive: 7 });

  test('accuracy 0.964 (267/277), sensitivity 0.976 (124/127), specificity 0.953 (143/150)', () => {
    expect(metrics.accuracy).toMatchObject({ numerator: 267, denominator: 277 });
    expect(metrics.accuracy.value.toFixed(3)).toBe('0.964');
    expect(metrics.sensitivity).toMatchObject({ numerator: 124, denominator: 127 });
    expect(metrics.sensitivity.value.toFixed(3)).toBe('0.976');
    expect(metrics.specificity).toMatchObject({ numerator: 143, denominator: 150 });
    expect(metrics.specificity.value.toFixed(3)).toBe('0.953');
  });

  test('kappa 0.927', () => {
    expect(metrics.kappa.value.toFixed(3)).toBe('0.927');
    expect(metrics.kappa.ci95.lower).toBeLessThan(0.927);
    expect(metrics.kappa.ci95.upper).toBeGreaterThan(0.927);
  });
});

test("Hanley and McNeil's CT example: AUC 0.893 (58 normal, 51 abnormal, 5-point ratings)", () => {
  const normal = [33, 6, 6, 11, 2];
  const abnormal = [3, 2, 2, 11, 33];
  const scores: number[] = [];
  const tumor: boolean[] = [];
  [normal, abnormal].forEach((counts, group) =>
    counts.forEach((count, rating) => {
      for (let i = 0; i < count; i++) {
        scores.push(rating + 1);
        tumor.push(group === 1);
      }
    }),
  );
  expect(areaUnderCurve(scores, tumor).toFixed(3)).toBe('0.893');
});

test('Clopper-Pearson at 0 and n has the closed form 1 - (alpha/2)^(1/n)', () => {
  for (const n of [1, 7, 30, 277]) {
    expect(clopperPearson(0, n).lower).toBe(0);
    expect(clopperPearson(0, n).upper).toBeCloseTo(1 - 0.025 ** (1 / n), 12);
    expect(clopperPearson(n, n).lower).toBeCloseTo(0.025 ** (1 / n), 12);
    expect(clopperPearson(n, n).upper).toBe(1);
  }
});
