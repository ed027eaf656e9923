/**
 * Exact binomial inference: Clopper-Pearson intervals for proportions (accuracy, sensitivity...)
 * and the exact two-sided test of a fair coin that McNemar's test reduces to.
 */
import { binomialLowerTail, regularizedBeta } from './special-functions';

export interface Interval {
  lower: number;
  upper: number;
}

const BISECTION_STEPS = 100;

/** The p in [0, 1] where a tail probability that increases with p crosses the target. */
function solveIncreasing(tail: (p: number) => number, target: number): number {
  let low = 0;
  let high = 1;
  for (let i = 0; i < BISECTION_STEPS; i++) {
    const middle = (low + high) / 2;
    if (tail(middle) < target) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * The exact (Clopper-Pearson) interval for `successes` out of `trials`: the p whose binomial tails
 * at the observed count are each alpha / 2. It never undercovers, which is why the method's
 * proportions are reported with it. The tails are written as beta distributions
 * (P(X >= k) = I_p(k, n - k + 1)), which also gives the interval of a non-integer count: MedCalc's
 * exact interval of the AUC treats AUC x n as one.
 */
export function clopperPearson(successes: number, trials: number, confidence = 0.95): Interval {
  if (trials === 0) return { lower: 0, upper: 1 };
  const halfAlpha = (1 - confidence) / 2;
  const lower =
    successes === 0 ? 0 : solveIncreasing((p) => regularizedBeta(p, successes, trials - successes + 1), halfAlpha);
  const upper =
    successes === trials ? 1 : solveIncreasing((p) => regularizedBeta(p, successes + 1, trials - successes), 1 - halfAlpha);
  return { lower, upper };
}

/** Two-sided exact P value of `k` successes in `n` trials when success and failure are equally likely. */
export function fairCoinTwoSidedP(k: number, n: number): number {
  if (n === 0) return 1;
  const smaller = Math.min(k, n - k);
  if (2 * smaller === n) return 1;
  return Math.min(1, 2 * binomialLowerTail(smaller, n, 0.5));
}
