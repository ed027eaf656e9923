/**
 * Published numbers: the method's internal-test confusion counts and its AUC interval, Hanley and
 * McNeil's (1982) CT rating example for the AUC, and the closed forms of the Clopper-Pearson
 * interval at 0 and n.
 */
import { exactBinomialAuc } from '../../server/src/evaluation/statistics/auc-interval';
import { clopperPearson } from '../../server/src/evaluation/statistics/binomial';
import { diagnosticMetrics, metricsFromCounts } from '../../server/src/evaluation/statistics/confusion';
import { delongAuc } from '../../server/src/evaluation/statistics/delong';
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

/**
 * Patient scores built to the internal test set's published counts, lowest first: 46 true
 * negatives, the 3 false negatives, 97 true negatives, then (above the operating threshold) 8 true
 * positives, the 7 false positives and 116 true positives. Tumor-normal pairs ranked the wrong way:
 * 3 x 97 + 3 x 7 + 7 x 8 = 368 of 127 x 150 = 19,050, so AUC = 1 - 368 / 19,050 = 0.98068. The
 * study gives the AUC to three decimals only; the published interval, under the MedCalc rule,
 * holds only for an AUC from 0.98055 to 0.98085, and these ranks sit in the middle of that range.
 */
function internalTestSet(): { scores: number[]; tumor: boolean[]; threshold: number } {
  const blocks: [count: number, tumor: boolean][] = [[46, false], [3, true], [97, false], [8, true], [7, false], [116, true]];
  const tumor = blocks.flatMap(([count, isTumor]) => Array<boolean>(count).fill(isTumor));
  const scores = tumor.map((_, rank) => (rank + 1) / (tumor.length + 1));
  const threshold = ((46 + 3 + 97) + 0.5) / (tumor.length + 1);
  return { scores, tumor, threshold };
}

describe("the internal test set's AUC 0.981 (95% CI 0.957-0.993), MedCalc's exact binomial interval", () => {
  const { scores, tumor, threshold } = internalTestSet();

  test('the scores are built to the published counts: 127 tumor, 150 normal, TP 124, FN 3, TN 143, FP 7', () => {
    const metrics = diagnosticMetrics(scores.map((score) => score >= threshold), tumor);
    expect(metrics.counts).toEqual({ truePositive: 124, falseNegative: 3, trueNegative: 143, falsePositive: 7 });
    expect(areaUnderCurve(scores, tumor).toFixed(3)).toBe('0.981');
  });

  test('AUC x n in n trials with n = all 277 patients gives 0.957-0.993', () => {
    const auc = exactBinomialAuc(scores, tumor);
    expect(auc).toMatchObject({ method: 'binomial', trials: 277 });
    expect(auc.value.toFixed(3)).toBe('0.981');
    expect(auc.ci95.lower.toFixed(3)).toBe('0.957');
    expect(auc.ci95.upper.toFixed(3)).toBe('0.993');
  });

  test('no other reading of "n", nor a rounded count, nor DeLong, gives the published interval', () => {
    const auc = areaUnderCurve(scores, tumor);
    const shown = (interval: { lower: number; upper: number }): string => `${interval.lower.toFixed(3)}-${interval.upper.toFixed(3)}`;
    for (const n of [127, 150, 127 * 150]) expect(shown(clopperPearson(auc * n, n))).not.toBe('0.957-0.993');
    expect(shown(clopperPearson(Math.round(auc * 277), 277))).not.toBe('0.957-0.993');
    expect(shown(delongAuc(scores, tumor).ci95)).not.toBe('0.957-0.993');
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
