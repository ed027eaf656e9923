/**
 * The AUC's 95% interval by one of three methods, chosen per evaluation and named wherever the
 * interval is shown: DeLong's (the default), MedCalc's exact binomial (how the study's published
 * intervals were computed), or a seeded percentile bootstrap over patients.
 */
import { clopperPearson } from './binomial';
import type { AucIntervalChoice, AucWithInterval } from './auc-types';
import { bootstrapAuc } from './bootstrap';
import { delongAuc } from './delong';

export const AUC_INTERVAL_METHODS = ['delong', 'binomial', 'bootstrap'] as const;
export type AucIntervalMethod = (typeof AUC_INTERVAL_METHODS)[number];

export const AUC_INTERVAL_NAMES: Record<AucIntervalMethod, string> = {
  delong: 'DeLong',
  binomial: 'exact binomial',
  bootstrap: 'bootstrap',
};

export const DEFAULT_BOOTSTRAP_REPLICATES = 2000;

/**
 * MedCalc's default AUC interval: the exact (Clopper-Pearson) binomial interval of AUC x n
 * "successes" in n trials, n being all the patients. The study's internal test set (AUC 0.981,
 * 127 tumor and 150 normal patients) gives its published 0.957-0.993 with n = 277 and the count
 * left fractional; n = 127 or 150, or the count rounded to a whole number, do not.
 */
export function exactBinomialAuc(scores: readonly number[], tumor: readonly boolean[]): AucWithInterval {
  const delong = delongAuc(scores, tumor);
  const trials = scores.length;
  return {
    value: delong.value,
    standardError: delong.standardError,
    ci95: clopperPearson(delong.value * trials, trials),
    method: 'binomial',
    trials,
  };
}

export function aucWithInterval(scores: readonly number[], tumor: readonly boolean[], choice: AucIntervalChoice): AucWithInterval {
  switch (choice.method) {
    case 'delong':
      return delongAuc(scores, tumor);
    case 'binomial':
      return exactBinomialAuc(scores, tumor);
    case 'bootstrap':
      return bootstrapAuc(scores, tumor, choice.replicates, choice.seed);
  }
}

/** The interval's name with what it was computed from, as the report and the command's summary show it. */
export function aucIntervalLabel(auc: AucWithInterval): string {
  switch (auc.method) {
    case 'delong':
      return AUC_INTERVAL_NAMES.delong;
    case 'binomial':
      return `${AUC_INTERVAL_NAMES.binomial}, n = ${auc.trials}`;
    case 'bootstrap':
      return `${AUC_INTERVAL_NAMES.bootstrap}, ${auc.replicates} replicates, seed ${auc.seed}`;
  }
}

/** The method in full, for evaluation.json's method section. */
export function describeAucInterval(choice: AucIntervalChoice): string {
  switch (choice.method) {
    case 'delong':
      return 'DeLong 95% (normal approximation, clipped to [0, 1])';
    case 'binomial':
      return 'exact binomial 95% as MedCalc computes it: Clopper-Pearson interval of AUC x n in n trials, n = all patients (the count may be fractional); standard error DeLong\'s';
    case 'bootstrap':
      return `percentile bootstrap 95%: ${choice.replicates} replicates resampling tumor and normal patients separately, seed ${choice.seed}; standard error the replicates' standard deviation`;
  }
}
