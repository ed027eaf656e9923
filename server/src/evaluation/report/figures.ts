/** The report's two figures: the patient-level ROC curve and the lesion-level free-response curve. */
import type { Evaluation } from '../evaluate';
import { AUC_INTERVAL_NAMES } from '../statistics/auc-interval';
import { renderChart, type ChartSeries } from './chart';

const MODEL_COLOR = '#1f5fa8';
const READER_COLORS = ['#c0392b', '#27864a', '#8e44ad', '#d35400', '#2c3e50'];

function readerColor(index: number): string {
  return READER_COLORS[index % READER_COLORS.length] as string;
}

/** ROC of the model's patient score, with its operating point and each reader's point. */
export function rocFigure(evaluation: Evaluation): string {
  const { roc, metrics, operatingThreshold } = evaluation.model.patientLevel;
  const series: ChartSeries[] = [];
  if (roc !== undefined) {
    series.push({
      name: `Model, AUC ${roc.auc.value.toFixed(3)} (95% CI ${roc.auc.ci95.lower.toFixed(3)}-${roc.auc.ci95.upper.toFixed(3)}, ${AUC_INTERVAL_NAMES[roc.auc.method]})`,
      color: MODEL_COLOR,
      style: 'line',
      points: roc.curve.map((point) => [point.falsePositiveRate, point.truePositiveRate] as const),
    });
  }
  series.push({
    name: `Model at threshold ${operatingThreshold}`,
    color: '#0b2e59',
    style: 'markers',
    points: [[1 - metrics.specificity.value, metrics.sensitivity.value]],
  });
  evaluation.readers.forEach((reader, index) =>
    series.push({
      name: `Reader ${reader.name}`,
      color: readerColor(index),
      style: 'markers',
      points: [[1 - reader.metrics.specificity.value, reader.metrics.sensitivity.value]],
    }),
  );
  return renderChart({
    title: 'Patient-level ROC curve',
    xLabel: '1 - specificity',
    yLabel: 'Sensitivity',
    xMax: 1,
    yMax: 1,
    chanceLine: true,
    series,
  });
}

/** Lesion sensitivity against false positives per radiograph, over all confidence levels. */
export function frocFigure(evaluation: Evaluation): string {
  const points = evaluation.model.froc.map((point) => [point.falsePositivesPerRadiograph, point.lesionSensitivity] as const);
  const largestRate = Math.max(0, ...points.map(([rate]) => rate));
  return renderChart({
    title: 'Lesion-level free-response (FROC) curve',
    xLabel: 'False-positive boxes per radiograph',
    yLabel: 'Lesion localisation rate (IoU > 0.2)',
    xMax: largestRate > 0 ? Math.ceil(largestRate * 10) / 10 : 1,
    yMax: 1,
    chanceLine: false,
    series: [{ name: 'Model', color: MODEL_COLOR, style: 'line', points: [[0, 0], ...points] }],
  });
}
