/** An AUC with its 95% interval, and the interval methods the evaluation offers. */
import type { Interval } from './binomial';

export type AucIntervalChoice =
  | { method: 'delong' }
  | { method: 'binomial' }
  | { method: 'bootstrap'; replicates: number; seed: number };

export type AucWithInterval = {
  value: number;
  /**
   * DeLong's beside the DeLong and the exact binomial interval (MedCalc too reports DeLong's beside
   * its exact interval); the replicates' standard deviation beside the bootstrap's.
   */
  standardError: number;
  ci95: Interval;
} & (
  | { method: 'delong' }
  // trials: the n of AUC x n, every patient (tumor and normal).
  | { method: 'binomial'; trials: number }
  | { method: 'bootstrap'; replicates: number; seed: number }
);
