/**
 * Every statistic against an independent reference computed another way: scikit-learn's AUC, ROC
 * curve and kappa, scipy's beta quantiles, binomial test, chi-squared and Fisher tests,
 * statsmodels' Fleiss kappa, and numpy implementations of DeLong's structural components and of
 * the Fleiss-Cohen-Everitt and Fleiss-Nee-Landis kappa variances.
 */
import { readerAgreement } from '../../server/src/evaluation/agreement';
import type { ReaderCases } from '../../server/src/evaluation/readers';
import { aucWithInterval } from '../../server/src/evaluation/statistics/auc-interval';
import { bootstrapAuc, quantile } from '../../server/src/evaluation/statistics/bootstrap';
import { clopperPearson } from '../../server/src/evaluation/statistics/binomial';
import { cohensKappa } from '../../server/src/evaluation/statistics/kappa';
import { chiSquaredTest, compareAccuracy, exactTest, type AccuracyTable } from '../../server/src/evaluation/statistics/contingency';
import { delongAuc } from '../../server/src/evaluation/statistics/delong';
import { mcnemarTest } from '../../server/src/evaluation/statistics/mcnemar';
import { kappaPermutationTest } from '../../server/src/evaluation/statistics/permutation';
import { seededRandom } from '../../server/src/evaluation/statistics/random';
import { areaUnderCurve, rocCurve } from '../../server/src/evaluation/statistics/roc';
import { chiSquaredSurvival } from '../../server/src/evaluation/statistics/special-functions';
import { noisyDecisions, randomTruth, scoredPatients } from './support/test-data';
import { pythonReference, type ReferenceTask } from './support/python-reference';

const PATIENT_SETS = [
  scoredPatients(1, 127, 150),
  scoredPatients(2, 127, 150, 10),
  scoredPatients(3, 5, 7),
  scoredPatients(4, 40, 300, 4),
  scoredPatients(5, 687, 1988),
  scoredPatients(6, 2, 3, 2),
];

describe('ROC analysis against scikit-learn and a numpy DeLong', () => {
  const reference = pythonReference<{ sklearnAuc: number; delongAuc: number; delongSe: number; fpr: number[]; tpr: number[] }>(
    PATIENT_SETS.map(({ scores, tumor }) => ({ kind: 'auc', scores, labels: tumor })),
  );

  test.each(PATIENT_SETS.map((set, index) => [index, set] as const))('patient set %i', (index, { scores, tumor }) => {
    const expected = reference[index]!;
    expect(areaUnderCurve(scores, tumor)).toBeCloseTo(expected.sklearnAuc, 12);
    const delong = delongAuc(scores, tumor);
    expect(delong.value).toBeCloseTo(expected.delongAuc, 12);
    expect(delong.standardError).toBeCloseTo(expected.delongSe, 12);
    const curve = rocCurve(scores, tumor);
    expect(curve.map((p) => p.falsePositiveRate)).toEqual(expected.fpr.map((v) => expect.closeTo(v, 12)));
    expect(curve.map((p) => p.truePositiveRate)).toEqual(expected.tpr.map((v) => expect.closeTo(v, 12)));
  });

  test('every ROC threshold reproduces its point with the rule "score at or above threshold"', () => {
    const { scores, tumor } = PATIENT_SETS[1]!;
    const positives = tumor.filter(Boolean).length;
    for (const point of rocCurve(scores, tumor)) {
      const positive = scores.map((score) => point.threshold !== null && score >= point.threshold);
      const truePositives = positive.filter((p, i) => p && tumor[i]).length;
      expect(truePositives / positives).toBeCloseTo(point.truePositiveRate, 12);
    }
  });
});

describe('Clopper-Pearson intervals against scipy beta quantiles', () => {
  const cases: [number, number][] = [
    [267, 277], [124, 127], [143, 150], [242, 256], [0, 10], [10, 10], [1, 1], [0, 1], [3, 5], [1, 2675], [2600, 2675], [50, 100],
    // Fractional counts, as the exact binomial AUC interval makes them (AUC x n).
    [271.65, 277], [124.587, 127], [0.5, 10], [9.3, 10], [2599.25, 2675],
  ];
  const reference = pythonReference<{ lower: number; upper: number }>(cases.map(([k, n]) => ({ kind: 'clopper-pearson', k, n })));
  test.each(cases.map((c, i) => [...c, i] as const))('%d / %i', (k, n, index) => {
    const interval = clopperPearson(k, n);
    expect(interval.lower).toBeCloseTo(reference[index]!.lower, 9);
    expect(interval.upper).toBeCloseTo(reference[index]!.upper, 9);
  });
});

describe("Cohen's kappa against scikit-learn, its variance against a numpy Fleiss formula", () => {
  const random = seededRandom(11);
  const pairs = [40, 277, 1000, 25].map((n, i) => {
    const truth = randomTruth(random, n, 0.3 + 0.1 * i);
    return { truth, decisions: noisyDecisions(random, truth, 0.7 + 0.07 * i) };
  });
  const reference = pythonReference<{ sklearn: number; kappa: number; se: number }>(
    pairs.map(({ truth, decisions }) => ({ kind: 'kappa', a: decisions.map(Number), b: truth.map(Number) })),
  );
  test.each(pairs.map((pair, i) => [i, pair] as const))('pair %i', (index, { truth, decisions }) => {
    const table = [
      [0, 0],
      [0, 0],
    ];
    decisions.forEach((decision, i) => {
      const row = table[Number(decision)]!;
      row[Number(truth[i])] = row[Number(truth[i])]! + 1;
    });
    const kappa = cohensKappa(table);
    expect(kappa.value).toBeCloseTo(reference[index]!.sklearn, 12);
    expect(kappa.standardError).toBeCloseTo(reference[index]!.se, 12);
  });
});

describe("McNemar's exact test against scipy's binomial test", () => {
  const cases: [number, number][] = [[0, 0], [3, 0], [10, 2], [7, 7], [25, 40], [1, 9], [120, 95]];
  const reference = pythonReference<{ p: number }>(cases.map(([b, c]) => ({ kind: 'mcnemar', b, c })));
  test.each(cases.map((c, i) => [...c, i] as const))('model-only %i, reader-only %i', (b, c, index) => {
    const modelCorrect = [...Array(b).fill(true), ...Array(c).fill(false), true, false];
    const readerCorrect = [...Array(b).fill(false), ...Array(c).fill(true), true, false];
    const test = mcnemarTest(modelCorrect, readerCorrect);
    expect([test.modelOnlyCorrect, test.readerOnlyCorrect]).toEqual([b, c]);
    expect(test.pValue).toBeCloseTo(reference[index]!.p, 12);
  });
});

describe('accuracy across subgroups against scipy', () => {
  const tables: AccuracyTable[] = [
    [[120, 7], [140, 10]],
    [[60, 3], [45, 9], [80, 2], [33, 6]],
    [[10, 1], [8, 3]],
    [[5, 0], [4, 2], [7, 1]],
    [[267, 10], [185, 16]],
  ];
  const chi = pythonReference<{ statistic: number; p: number; dof: number }>(tables.map((table) => ({ kind: 'chi2', table })));
  const exact = pythonReference<{ p: number }>(
    tables.map((table): ReferenceTask => (table.length === 2 ? { kind: 'fisher', table } : { kind: 'freeman-halton', table })),
  );
  test.each(tables.map((table, i) => [i, table] as const))('table %i', (index, table) => {
    const test = chiSquaredTest(table);
    expect(test.statistic).toBeCloseTo(chi[index]!.statistic, 10);
    expect(test.degreesOfFreedom).toBe(chi[index]!.dof);
    expect(test.pValue).toBeCloseTo(chi[index]!.p, 12);
    expect(exactTest(table)).toBeCloseTo(exact[index]!.p, 10);
  });

  test('the exact test is used only when an expected count is below 5', () => {
    expect(compareAccuracy([[20, 1], [30, 4]])?.exact?.method).toBe('fisher-exact');
    expect(compareAccuracy([[60, 3], [45, 9], [80, 2], [33, 6]])?.exact?.method).toBe('freeman-halton');
    expect(compareAccuracy([[100, 30], [90, 45]])?.exact).toBeUndefined();
    expect(compareAccuracy([[100, 0], [90, 0]])).toBeUndefined();
  });

  test('chi-squared tail probabilities', () => {
    const points = [[0.5, 1], [3.84, 1], [10, 3], [50, 4], [0.01, 2], [200, 10]] as const;
    const reference = pythonReference<{ p: number }>(points.map(([x, df]) => ({ kind: 'chi2-sf', x, df })));
    points.forEach(([x, df], i) => expect(chiSquaredSurvival(x, df)).toBeCloseTo(reference[i]!.p, 12));
  });
});

describe('kappa permutation test', () => {
  const random = seededRandom(21);
  const truth = randomTruth(random, 60, 0.45);
  const model = noisyDecisions(random, truth, 0.9);
  const reader = noisyDecisions(random, truth, 0.8);
  const differing = model.filter((decision, i) => decision !== reader[i]).length;

  test('uses the method\'s 10,000 iterations, and the same seed gives the same P', () => {
    const first = kappaPermutationTest(model, reader, truth, 7);
    expect(first.iterations).toBe(10000);
    expect(kappaPermutationTest(model, reader, truth, 7)).toEqual(first);
    expect(kappaPermutationTest(model, reader, truth, 8).pValue).not.toBe(first.pValue);
  });

  test('agrees with the exact permutation distribution enumerated in Python', () => {
    expect(differing).toBeLessThanOrEqual(16);
    const [exact] = pythonReference<{ difference: number; p: number }>([
      { kind: 'kappa-permutation', model: model.map(Number), reader: reader.map(Number), truth: truth.map(Number) },
    ]);
    const test = kappaPermutationTest(model, reader, truth, 7);
    expect(test.difference).toBeCloseTo(exact!.difference, 12);
    // Monte Carlo error of 10,000 draws: 4 standard errors.
    const tolerance = 4 * Math.sqrt((exact!.p * (1 - exact!.p)) / 10000) + 1e-4;
    expect(Math.abs(test.pValue - exact!.p)).toBeLessThan(tolerance);
  });
});

describe('bootstrap AUC interval', () => {
  test('percentiles interpolate like numpy', () => {
    const values = scoredPatients(31, 37, 0).scores.sort((a, b) => a - b);
    const reference = pythonReference<{ value: number }>([0.025, 0.5, 0.975].map((q) => ({ kind: 'percentile', values, q })));
    [0.025, 0.5, 0.975].forEach((q, i) => expect(quantile(values, q)).toBeCloseTo(reference[i]!.value, 12));
  });

  test('contains the point estimate and is reproducible from its seed; another seed moves it', () => {
    const { scores, tumor } = PATIENT_SETS[0]!;
    const bootstrap = aucWithInterval(scores, tumor, { method: 'bootstrap', replicates: 2000, seed: 5 });
    expect(bootstrap).toMatchObject({ method: 'bootstrap', replicates: 2000, seed: 5, value: areaUnderCurve(scores, tumor) });
    expect(bootstrap.ci95.lower).toBeLessThan(bootstrap.value);
    expect(bootstrap.ci95.upper).toBeGreaterThan(bootstrap.value);
    expect(bootstrapAuc(scores, tumor, 2000, 5)).toEqual(bootstrap);
    expect(bootstrapAuc(scores, tumor, 2000, 6).ci95).not.toEqual(bootstrap.ci95);
  });

  test("is close to DeLong's on a study-sized set (687 tumor, 1988 normal)", () => {
    const { scores, tumor } = PATIENT_SETS[4]!;
    const bootstrap = bootstrapAuc(scores, tumor, 2000, 5);
    const delong = delongAuc(scores, tumor);
    expect(Math.abs(bootstrap.standardError / delong.standardError - 1)).toBeLessThan(0.1);
    expect(Math.abs(bootstrap.ci95.lower - delong.ci95.lower)).toBeLessThan(0.003);
    expect(Math.abs(bootstrap.ci95.upper - delong.ci95.upper)).toBeLessThan(0.003);
  });
});

describe("agreement between readers against scikit-learn's Cohen kappa and statsmodels' Fleiss kappa", () => {
  const random = seededRandom(41);
  const truth = randomTruth(random, 150, 0.45);
  const decisions = [0.9, 0.85, 0.8, 0.75].map((accuracy) => noisyDecisions(random, truth, accuracy));
  const readers: ReaderCases[] = decisions.map((positive, r) => ({
    name: `reader ${r + 1}`,
    patients: positive.map((isPositive, p) => ({
      patientId: `P${p}`,
      tumor: truth[p]!,
      attributes: {},
      radiographs: [{ imageId: `P${p}.1`, view: 'AP', lesions: [], boxes: isPositive ? [{ x: 0, y: 0, width: 10, height: 10, confidence: 1 }] : [] }],
    })),
  }));
  const pairs = decisions.flatMap((first, i) => decisions.slice(i + 1).map((second) => [first, second] as const));
  const cohen = pythonReference<{ sklearn: number; se: number }>(
    pairs.map(([a, b]) => ({ kind: 'kappa', a: a.map(Number), b: b.map(Number) })),
  );
  const [fleiss, fleissOfThree] = pythonReference<{ kappa: number; se: number }>([
    { kind: 'fleiss', ratings: decisions.map((reader) => reader.map(Number)) },
    { kind: 'fleiss', ratings: decisions.slice(0, 3).map((reader) => reader.map(Number)) },
  ]);

  test("Cohen's kappa of every pair, with its Fleiss-Cohen-Everitt interval", () => {
    const agreement = readerAgreement(readers)!;
    expect(agreement.pairs.map((pair) => `${pair.first} / ${pair.second}`)).toEqual([
      'reader 1 / reader 2', 'reader 1 / reader 3', 'reader 1 / reader 4', 'reader 2 / reader 3', 'reader 2 / reader 4', 'reader 3 / reader 4',
    ]);
    agreement.pairs.forEach((pair, i) => {
      expect(pair.kappa.value).toBeCloseTo(cohen[i]!.sklearn, 12);
      expect(pair.kappa.standardError).toBeCloseTo(cohen[i]!.se, 12);
      expect(pair.kappa.ci95.upper - pair.kappa.value).toBeCloseTo(1.959963984540054 * cohen[i]!.se, 12);
    });
  });

  test("Fleiss' kappa over three and over four readers, with the Fleiss-Nee-Landis standard error", () => {
    const ofFour = readerAgreement(readers)!.fleiss!;
    expect(ofFour.readers).toHaveLength(4);
    expect(ofFour.kappa.value).toBeCloseTo(fleiss!.kappa, 12);
    expect(ofFour.kappa.standardError).toBeCloseTo(fleiss!.se, 12);
    const ofThree = readerAgreement(readers.slice(0, 3))!.fleiss!;
    expect(ofThree.kappa.value).toBeCloseTo(fleissOfThree!.kappa, 12);
    expect(ofThree.kappa.standardError).toBeCloseTo(fleissOfThree!.se, 12);
    expect(ofThree.kappa.ci95.lower).toBeCloseTo(ofThree.kappa.value - 1.959963984540054 * fleissOfThree!.se, 12);
  });

  test("two readers get their pair's kappa and no Fleiss' kappa; one reader gets nothing", () => {
    const two = readerAgreement(readers.slice(0, 2))!;
    expect(two.pairs).toHaveLength(1);
    expect(two.fleiss).toBeUndefined();
    expect(readerAgreement(readers.slice(0, 1))).toBeUndefined();
  });
});
