/**
 * Tests of whether accuracy differs across subgroups: Pearson's chi-squared test on the
 * subgroup x (correct, incorrect) table, and the exact conditional test (Fisher's exact test for
 * two subgroups, its Freeman-Halton extension for more) when expected counts are small.
 */
import { chiSquaredSurvival, logChoose } from './special-functions';

/** One row per subgroup: [correct, incorrect]. */
export type AccuracyTable = readonly (readonly [number, number])[];

export interface ChiSquaredTest {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  smallestExpectedCount: number;
}

export interface AccuracyComparison {
  chiSquared: ChiSquaredTest;
  /** Present when some expected count is below 5, where the chi-squared approximation is poor. */
  exact?: { pValue: number; method: 'fisher-exact' | 'freeman-halton' };
  /** The P value to read: the exact one when present, else the chi-squared one. */
  pValue: number;
}

const SMALL_EXPECTED_COUNT = 5;
// Enumerating more tables than this takes seconds; the chi-squared value is then reported alone.
const MAX_EXACT_TABLES = 2_000_000;

/** Pearson's chi-squared test of independence without continuity correction. */
export function chiSquaredTest(table: AccuracyTable): ChiSquaredTest {
  const rowTotals = table.map(([a, b]) => a + b);
  const columnTotals = [0, 1].map((column) => table.reduce((total, row) => total + row[column as 0 | 1], 0));
  const total = rowTotals.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let smallestExpectedCount = Infinity;
  table.forEach((row, i) => {
    row.forEach((observed, j) => {
      const expected = ((rowTotals[i] as number) * (columnTotals[j] as number)) / total;
      smallestExpectedCount = Math.min(smallestExpectedCount, expected);
      statistic += (observed - expected) ** 2 / expected;
    });
  });
  const degreesOfFreedom = table.length - 1;
  return { statistic, degreesOfFreedom, pValue: chiSquaredSurvival(statistic, degreesOfFreedom), smallestExpectedCount };
}

/**
 * The exact conditional test with both margins fixed: the P value is the total probability of the
 * tables no more likely than the observed one (the rule scipy's fisher_exact uses); undefined
 * when there are too many tables to enumerate.
 */
export function exactTest(table: AccuracyTable): number | undefined {
  const rowTotals = table.map(([a, b]) => a + b);
  const incorrectTotal = table.reduce((total, row) => total + row[1], 0);
  const total = rowTotals.reduce((a, b) => a + b, 0);
  // Enumerate the smaller column: the errors are usually few.
  const column: 0 | 1 = incorrectTotal <= total - incorrectTotal ? 1 : 0;
  const columnTotal = column === 1 ? incorrectTotal : total - incorrectTotal;
  const logDenominator = logChoose(total, columnTotal);
  const logProbability = (cells: readonly number[]): number =>
    cells.reduce((sum, cell, i) => sum + logChoose(rowTotals[i] as number, cell), 0) - logDenominator;
  const observedLogProbability = logProbability(table.map((row) => row[column]));
  // Relative tolerance so that tables as likely as the observed one count despite round-off.
  const cutoff = observedLogProbability + Math.log1p(1e-7);

  let pValue = 0;
  let tables = 0;
  const cells: number[] = [];
  // What the rows from i on can still hold, so that impossible partial tables are cut early.
  const capacityFrom = [...rowTotals.map((_, i) => rowTotals.slice(i).reduce((a, b) => a + b, 0)), 0];
  const visit = (row: number, left: number): boolean => {
    if (row === rowTotals.length) {
      tables++;
      if (tables > MAX_EXACT_TABLES) return false;
      const logP = logProbability(cells);
      if (logP <= cutoff) pValue += Math.exp(logP);
      return true;
    }
    const lowest = Math.max(0, left - (capacityFrom[row + 1] as number));
    const highest = Math.min(rowTotals[row] as number, left);
    for (let cell = lowest; cell <= highest; cell++) {
      cells[row] = cell;
      if (!visit(row + 1, left - cell)) return false;
    }
    return true;
  };
  return visit(0, columnTotal) ? Math.min(1, pValue) : undefined;
}

/** Accuracy across subgroups; undefined when fewer than two subgroups or no variation to test. */
export function compareAccuracy(table: AccuracyTable): AccuracyComparison | undefined {
  const rows = table.filter(([a, b]) => a + b > 0);
  const correct = rows.reduce((total, row) => total + row[0], 0);
  const incorrect = rows.reduce((total, row) => total + row[1], 0);
  if (rows.length < 2 || correct === 0 || incorrect === 0) return undefined;
  const chiSquared = chiSquaredTest(rows);
  if (chiSquared.smallestExpectedCount >= SMALL_EXPECTED_COUNT) return { chiSquared, pValue: chiSquared.pValue };
  const exactP = exactTest(rows);
  if (exactP === undefined) return { chiSquared, pValue: chiSquared.pValue };
  return {
    chiSquared,
    exact: { pValue: exactP, method: rows.length === 2 ? 'fisher-exact' : 'freeman-halton' },
    pValue: exactP,
  };
}
