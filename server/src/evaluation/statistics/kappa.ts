/**
 * Cohen's kappa for two raters over the same subjects (here: a decision against the reference
 * standard), with the large-sample standard error of Fleiss, Cohen and Everitt (1969).
 */
import type { Interval } from './binomial';

export interface Kappa {
  value: number;
  standardError: number;
  ci95: Interval;
  observedAgreement: number;
  expectedAgreement: number;
}

const Z_975 = 1.959963984540054;

/**
 * `table[i][j]` counts subjects put in category i by the first rater and j by the second.
 * The standard error is the non-null one (kappa not assumed 0), as used for confidence intervals.
 */
export function cohensKappa(table: readonly (readonly number[])[]): Kappa {
  const k = table.length;
  const n = table.reduce((total, row) => total + row.reduce((a, b) => a + b, 0), 0);
  const p = table.map((row) => row.map((count) => count / n));
  const rowShare = p.map((row) => row.reduce((a, b) => a + b, 0));
  const columnShare = Array.from({ length: k }, (_, j) => p.reduce((a, row) => a + (row[j] as number), 0));
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < k; i++) {
    observed += p[i]?.[i] as number;
    expected += (rowShare[i] as number) * (columnShare[i] as number);
  }
  const value = (observed - expected) / (1 - expected);

  let diagonalTerm = 0;
  let offDiagonalTerm = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const cell = p[i]?.[j] as number;
      if (i === j) {
        diagonalTerm += cell * (1 - ((rowShare[i] as number) + (columnShare[i] as number)) * (1 - value)) ** 2;
      } else {
        offDiagonalTerm += cell * ((columnShare[i] as number) + (rowShare[j] as number)) ** 2;
      }
    }
  }
  const variance =
    (diagonalTerm + (1 - value) ** 2 * offDiagonalTerm - (value - expected * (1 - value)) ** 2) /
    (n * (1 - expected) ** 2);
  const standardError = Math.sqrt(Math.max(0, variance));
  return {
    value,
    standardError,
    ci95: { lower: value - Z_975 * standardError, upper: value + Z_975 * standardError },
    observedAgreement: observed,
    expectedAgreement: expected,
  };
}
