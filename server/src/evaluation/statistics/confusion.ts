/** Binary decisions against the reference standard: the counts and the metrics built on them. */
import { cohensKappa, type Kappa } from './kappa';
import { proportion, type Proportion } from './proportion';

export interface ConfusionCounts {
  truePositive: number;
  falseNegative: number;
  trueNegative: number;
  falsePositive: number;
}

export interface DiagnosticMetrics {
  counts: ConfusionCounts;
  accuracy: Proportion;
  sensitivity: Proportion;
  specificity: Proportion;
  positivePredictiveValue: Proportion;
  negativePredictiveValue: Proportion;
  kappa: Kappa;
}

export function countConfusion(decisions: readonly boolean[], reference: readonly boolean[]): ConfusionCounts {
  const counts: ConfusionCounts = { truePositive: 0, falseNegative: 0, trueNegative: 0, falsePositive: 0 };
  decisions.forEach((positive, index) => {
    if (reference[index]) {
      if (positive) counts.truePositive++;
      else counts.falseNegative++;
    } else if (positive) counts.falsePositive++;
    else counts.trueNegative++;
  });
  return counts;
}

/** Every metric from the four counts alone, so published counts can be checked directly. */
export function metricsFromCounts(counts: ConfusionCounts): DiagnosticMetrics {
  const { truePositive: tp, falseNegative: fn, trueNegative: tn, falsePositive: fp } = counts;
  return {
    counts,
    accuracy: proportion(tp + tn, tp + fn + tn + fp),
    sensitivity: proportion(tp, tp + fn),
    specificity: proportion(tn, tn + fp),
    positivePredictiveValue: proportion(tp, tp + fp),
    negativePredictiveValue: proportion(tn, tn + fn),
    kappa: kappaFromCounts(counts),
  };
}

export function diagnosticMetrics(decisions: readonly boolean[], reference: readonly boolean[]): DiagnosticMetrics {
  return metricsFromCounts(countConfusion(decisions, reference));
}

/** Kappa of the decisions against the reference: rows are the decision, columns the reference. */
export function kappaFromCounts(counts: ConfusionCounts): Kappa {
  return cohensKappa([
    [counts.trueNegative, counts.falseNegative],
    [counts.falsePositive, counts.truePositive],
  ]);
}
