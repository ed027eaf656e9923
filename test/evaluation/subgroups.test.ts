/** Subgroups from the truth's attributes: levels, per-level counts, and the accuracy tests against scipy. */
import { parsePredictions, parseReferenceSet, bindToTruth, bindReader, parseReading } from '../../server/src/evaluation/inputs/validate';
import { subgroupAnalyses } from '../../server/src/evaluation/subgroups';
import { phantomSet } from './support/phantom-set';
import { pythonReference } from './support/python-reference';

const set = phantomSet(12, 150);
const truth = parseReferenceSet({ value: set.truth, where: 'truth.json' });
const patients = bindToTruth(truth, parsePredictions([{ value: set.analyses, where: 'pred.json' }]).images, 'prediction');
const reader = bindReader(truth, parseReading({ value: set.readers[0], where: 'a.json' }), 'a');
const analyses = subgroupAnalyses(patients, [reader], 0.4, { method: 'delong' });
const byName = new Map(analyses.map((analysis) => [analysis.name, analysis]));

test('age groups split at 18 years, with the counts of each level', () => {
  const age = byName.get('age group')!;
  expect(age.levels.map((level) => level.level)).toEqual(['< 18 years', '>= 18 years']);
  const minors = set.truth.patients.filter((patient) => (patient.attributes!.ageYears as number) < 18).length;
  expect(age.levels[0]!.patients).toBe(minors);
  expect(age.levels[1]!.patients).toBe(150 - minors);
  const minorsCorrect = set.truth.patients.filter(
    (patient, i) => (patient.attributes!.ageYears as number) < 18 && set.analyses[i]!.patient.positive === patient.tumor,
  ).length;
  expect(age.levels[0]!.model.accuracy.numerator).toBe(minorsCorrect);
});

test('tumor size splits the tumor patients at the median; normals are left out', () => {
  const size = byName.get('tumor size')!;
  const sizes = set.truth.patients.filter((p) => p.tumor).map((p) => p.attributes!.lesionSizeMm as number).sort((a, b) => a - b);
  const middle = sizes.length / 2;
  const median = sizes.length % 2 ? sizes[Math.floor(middle)]! : (sizes[middle - 1]! + sizes[middle]!) / 2;
  expect(size.levels.map((level) => level.level)).toEqual([`< ${median} mm (median)`, `>= ${median} mm (median)`]);
  expect(size.patientsWithoutAttribute).toBe(set.truth.patients.filter((p) => !p.tumor).length);
  expect(size.levels[1]!.patients).toBe(sizes.filter((s) => s >= median).length);
});

test('device combines manufacturer and model; centers are levels; chi-squared as scipy computes it', () => {
  expect(byName.get('device')!.levels.map((level) => level.level)).toEqual(['Acme DR-1', 'Radix CR-9']);
  const center = byName.get('center')!;
  expect(center.levels.map((level) => level.level)).toEqual(['East', 'North', 'South']);
  const table = center.levels.map((level) => [level.model.accuracy.numerator, level.model.accuracy.denominator - level.model.accuracy.numerator]);
  const [reference] = pythonReference<{ statistic: number; p: number }>([{ kind: 'chi2', table }]);
  expect(center.modelAccuracyAcrossLevels!.chiSquared.statistic).toBeCloseTo(reference!.statistic, 10);
  expect(center.modelAccuracyAcrossLevels!.chiSquared.pValue).toBeCloseTo(reference!.p, 12);
  expect(center.readerAccuracyAcrossLevels[0]!.name).toBe('Junior A');
  expect(center.levels[0]!.readers[0]!.metrics.accuracy.denominator).toBe(center.levels[0]!.patients);
});
