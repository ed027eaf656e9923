/** A proportion reported the way the method reports it: value, counts and exact 95% interval. */
import { clopperPearson, type Interval } from './binomial';

export interface Proportion {
  /** NaN when the denominator is zero (for example specificity in a subgroup without normals). */
  value: number;
  numerator: number;
  denominator: number;
  ci95: Interval;
}

export function proportion(numerator: number, denominator: number): Proportion {
  return {
    value: denominator === 0 ? NaN : numerator / denominator,
    numerator,
    denominator,
    ci95: clopperPearson(numerator, denominator),
  };
}
