/**
 * The special functions the tests and intervals rest on: log-gamma, the regularized incomplete
 * gamma function (chi-squared tail), the regularized incomplete beta function (exact binomial
 * intervals) and binomial tail sums. Double precision, about 1e-12 relative.
 */

const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, with the reflection formula below 0.5). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0] as number;
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += (LANCZOS_COEFFICIENTS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln of the binomial coefficient C(n, k). */
export function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const EPSILON = 1e-15;
const MAX_ITERATIONS = 10000;

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  // The series converges fast below a + 1, the continued fraction above it (Numerical Recipes 6.2).
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaContinuedFraction(a, x);
}

function lowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

function upperGammaContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/**
 * Regularized incomplete beta I_x(a, b) for a, b > 0, 0 <= x <= 1. Real a and b are allowed: an
 * exact binomial interval of a non-integer count (the AUC x n of MedCalc) needs them. The continued
 * fraction converges fast below (a + 1) / (a + b + 2); above it the symmetry
 * I_x(a, b) = 1 - I_(1-x)(b, a) brings x back there (Numerical Recipes 6.4).
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const guard = (value: number): number => (Math.abs(value) < tiny ? tiny : value);
  let c = 1;
  let d = 1 / guard(1 - ((a + b) * x) / (a + 1));
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / guard(1 + even * d);
    c = guard(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / guard(1 + odd * d);
    c = guard(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return h;
}

/** Upper tail of the chi-squared distribution: P(X >= statistic) with the given degrees of freedom. */
export function chiSquaredSurvival(statistic: number, degreesOfFreedom: number): number {
  return upperRegularizedGamma(degreesOfFreedom / 2, statistic / 2);
}

/** ln P(X = k) for X ~ Binomial(n, p), 0 < p < 1. */
function logBinomialPmf(k: number, n: number, p: number): number {
  return logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/**
 * The sum of P(X = i) for i from `first` to `last`. Successive terms differ by a cheap ratio, so
 * only the first needs log-gamma; summing in log space keeps tiny terms (n in the thousands) exact.
 */
function binomialRangeSum(first: number, last: number, n: number, p: number): number {
  if (p === 0 || p === 1) {
    const certain = p === 0 ? 0 : n;
    return certain >= first && certain <= last ? 1 : 0;
  }
  const logOdds = Math.log(p) - Math.log1p(-p);
  let logTerm = logBinomialPmf(first, n, p);
  let logLargest = logTerm;
  const logTerms = [logTerm];
  for (let i = first; i < last; i++) {
    logTerm += Math.log((n - i) / (i + 1)) + logOdds;
    logTerms.push(logTerm);
    logLargest = Math.max(logLargest, logTerm);
  }
  const scaled = logTerms.reduce((sum, value) => sum + Math.exp(value - logLargest), 0);
  return Math.min(1, scaled * Math.exp(logLargest));
}

/** P(X <= k) for X ~ Binomial(n, p). */
export function binomialLowerTail(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return binomialRangeSum(0, k, n, p);
}
