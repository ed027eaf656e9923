/**
 * Chance-corrected agreement. Cohen's kappa for two raters over the same subjects (a decision
 * against the reference standard, or two readers), with the large-sample standard error of Fleiss,
 * Cohen and Everitt (1969); Fleiss' kappa for three or more raters, with the asymptotic standard
 * error of Fleiss, Nee and Landis (1979).
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

/** A kappa with its normal-approximation 95% interval from the variance of its estimate. */
function kappaWithInterval(value: number, variance: number, observedAgreement: number, expectedAgreement: number): Kappa {
  const standardError = Math.sqrt(Math.max(0, variance));
  return {
    value,
    standardError,
    ci95: { lower: value - Z_975 * standardError, upper: value + Z_975 * standardError },
    observedAgreement,
    expectedAgreement,
  };
}

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
  return kappaWithInterval(value, variance, observed, expected);
}

/**
 * Fleiss' kappa: `counts[i][j]` is how many raters put subject i in category j, the same number of
 * raters for every subject. The standard error is the asymptotic one of Fleiss, Nee and Landis
 * (1979, Psychological Bulletin 86:974). It is derived under kappa = 0, so the interval
 * kappa +/- 1.96 SE is approximate away from 0. Observed and expected agreement are Fleiss' P-bar
 * and P-bar-e.
 */
export function fleissKappa(counts: readonly (readonly number[])[]): Kappa {
  const subjects = counts.length;
  const raters = (counts[0] ?? []).reduce((a, b) => a + b, 0);
  const categories = (counts[0] ?? []).length;
  const observed =
    counts.reduce((total, row) => total + (row.reduce((a, n) => a + n * n, 0) - raters) / (raters * (raters - 1)), 0) / subjects;
  const share = Array.from({ length: categories }, (_, j) => counts.reduce((a, row) => a + (row[j] as number), 0) / (subjects * raters));
  const expected = share.reduce((a, p) => a + p * p, 0);
  const value = (observed - expected) / (1 - expected);
  const spread = share.reduce((a, p) => a + p * (1 - p), 0);
  const skew = share.reduce((a, p) => a + p * (1 - p) * (1 - 2 * p), 0);
  const variance = (2 * (spread * spread - skew)) / (subjects * raters * (raters - 1) * spread * spread);
  return kappaWithInterval(value, variance, observed, expected);
}
