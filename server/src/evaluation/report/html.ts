/**
 * The self-contained HTML report: inline CSS and SVG only, no script and no external resource, so
 * it opens offline and can be attached to a validation record as one file.
 */
import { AI_NOTICE } from '../../domain/analysis';
import type { ReaderAgreement } from '../agreement';
import type { Evaluation } from '../evaluate';
import type { LesionLevelResult } from '../lesion-level';
import type { DiagnosticMetrics } from '../statistics/confusion';
import type { Kappa } from '../statistics/kappa';
import type { Proportion } from '../statistics/proportion';
import type { AccuracyComparison } from '../statistics/contingency';
import { aucIntervalLabel } from '../statistics/auc-interval';
import { escapeXml } from './chart';
import { frocFigure, rocFigure } from './figures';

const STYLE = `
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.8em 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }
th { background: #f2f4f7; } .notice { background: #fff6e0; border: 1px solid #e6c56b; padding: 0.6em 1em; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; } .small { color: #555; font-size: 0.9em; }
`;

function fixed(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function formatP(p: number): string {
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

function formatProportion(p: Proportion): string {
  if (p.denominator === 0) return 'n/a (0/0)';
  return `${fixed(p.value)} (${p.numerator}/${p.denominator}) [${fixed(p.ci95.lower)}-${fixed(p.ci95.upper)}]`;
}

function formatKappa(kappa: Kappa): string {
  // "to", not a dash: a kappa's lower bound can be negative.
  return `${fixed(kappa.value)} [${fixed(kappa.ci95.lower)} to ${fixed(kappa.ci95.upper)}]`;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const METRIC_HEADERS = ['Rater', 'Accuracy', 'Sensitivity', 'Specificity', 'PPV', 'NPV', 'Kappa'];

function metricRow(name: string, metrics: DiagnosticMetrics): string[] {
  return [
    name,
    formatProportion(metrics.accuracy),
    formatProportion(metrics.sensitivity),
    formatProportion(metrics.specificity),
    formatProportion(metrics.positivePredictiveValue),
    formatProportion(metrics.negativePredictiveValue),
    formatKappa(metrics.kappa),
  ];
}

function lesionRow(name: string, lesion: LesionLevelResult): string[] {
  return [
    name,
    formatProportion(lesion.localised),
    String(lesion.poorlyLocalised),
    String(lesion.missedEntirely),
    String(lesion.falsePositiveBoxes.total),
    fixed(lesion.falsePositiveBoxes.perRadiograph),
    fixed(lesion.falsePositiveBoxes.perPatient),
    fixed(lesion.falsePositiveBoxes.perNormalRadiograph),
  ];
}

function comparisonText(comparison: AccuracyComparison | undefined): string {
  if (comparison === undefined) return 'not testable (one level, or no errors)';
  const chi = comparison.chiSquared;
  const chiText = `chi-squared ${fixed(chi.statistic, 2)}, df ${chi.degreesOfFreedom}, P ${formatP(chi.pValue)}`;
  return comparison.exact === undefined
    ? chiText
    : `${chiText}; small counts: ${comparison.exact.method} exact P ${formatP(comparison.exact.pValue)}`;
}

function subgroupsSection(evaluation: Evaluation): string {
  if (evaluation.subgroups.length === 0) {
    return '<p>No subgroup attributes (center, ageYears, lesionSizeMm, manufacturer, model) in the truth file.</p>';
  }
  return evaluation.subgroups
    .map((subgroup) => {
      const rows = subgroup.levels.flatMap((level) => [
        [level.level, String(level.patients), level.auc === undefined ? 'n/a' : fixed(level.auc.value), ...metricRow('Model', level.model)],
        ...level.readers.map((reader) => [level.level, String(level.patients), '', ...metricRow(reader.name, reader.metrics)]),
      ]);
      const tests = [
        `<li>Model accuracy across levels: ${escapeXml(comparisonText(subgroup.modelAccuracyAcrossLevels))}</li>`,
        ...subgroup.readerAccuracyAcrossLevels.map(
          (reader) => `<li>${escapeXml(reader.name)} accuracy across levels: ${escapeXml(comparisonText(reader.comparison))}</li>`,
        ),
      ].join('');
      const without = subgroup.patientsWithoutAttribute > 0 ? `<p class="small">${subgroup.patientsWithoutAttribute} patient(s) without this attribute are left out.</p>` : '';
      return `<h3>${escapeXml(subgroup.name)}</h3>${table(['Level', 'Patients', 'AUC', ...METRIC_HEADERS], rows)}<ul>${tests}</ul>${without}`;
    })
    .join('\n');
}

function agreementSection(agreement: ReaderAgreement): string {
  const rows = agreement.pairs.map((pair) => [
    `${pair.first} / ${pair.second}`,
    "Cohen's",
    formatKappa(pair.kappa),
    fixed(pair.kappa.observedAgreement),
  ]);
  if (agreement.fleiss !== undefined) {
    rows.push([agreement.fleiss.readers.join(' / '), "Fleiss'", formatKappa(agreement.fleiss.kappa), fixed(agreement.fleiss.kappa.observedAgreement)]);
  }
  const fleissNote = agreement.fleiss === undefined
    ? ''
    : " Fleiss' kappa over all readers: 95% interval kappa &plusmn; 1.96 SE, with the asymptotic SE of Fleiss, Nee and Landis (1979), which is derived under kappa = 0.";
  return `<h2>Agreement between readers</h2>
<p>On the patient decisions (positive when the reader drew a box on either view). Cohen's kappa for each pair, with the same large-sample 95% interval as kappa against the reference (Fleiss, Cohen and Everitt).${fleissNote}</p>
${table(['Readers', 'Kappa', 'Kappa [95% CI]', 'Observed agreement'], rows)}`;
}

export function renderReport(evaluation: Evaluation): string {
  const { dataset, model, readers, method } = evaluation;
  const patientLevel = model.patientLevel;
  const roc = patientLevel.roc;
  const aucRows = roc === undefined ? [] : [[
    aucIntervalLabel(roc.auc),
    `${fixed(roc.auc.value)} [${fixed(roc.auc.ci95.lower)}-${fixed(roc.auc.ci95.upper)}]`,
    // MedCalc reports DeLong's standard error beside its exact binomial interval; so do we.
    `${fixed(roc.auc.standardError, 4)}${roc.auc.method === 'binomial' ? ' (DeLong)' : ''}`,
  ]];
  const youden = roc === undefined ? '' : `<p>Youden-optimal threshold: a patient is positive at or above ${roc.youden.threshold === null ? 'no score' : fixed(roc.youden.threshold, 4)} (sensitivity ${fixed(roc.youden.sensitivity)}, specificity ${fixed(roc.youden.specificity)}, J ${fixed(roc.youden.youdenIndex)}).</p>`;
  const comparisons = readers.map((reader) => [
    reader.name,
    fixed(reader.versusModel.kappaDifference.difference),
    formatP(reader.versusModel.kappaDifference.pValue),
    `${reader.versusModel.mcnemar.modelOnlyCorrect} / ${reader.versusModel.mcnemar.readerOnlyCorrect}`,
    formatP(reader.versusModel.mcnemar.pValue),
  ]);
  const froc = model.froc.length > 0 ? frocFigure(evaluation) : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Knee bone tumor detection: evaluation report</title><style>${STYLE}</style></head>
<body>
<h1>Knee bone tumor detection: evaluation report</h1>
<p class="notice">${escapeXml(AI_NOTICE)} This report measures the model on a test set; it is not about any one patient.</p>
<h2>Test set</h2>
${table(['Patients', 'Tumor patients', 'Normal patients', 'Radiographs', 'Reference lesions'], [[dataset.patients, dataset.tumorPatients, dataset.normalPatients, dataset.radiographs, dataset.lesions].map(String)])}
<h2>Patient level</h2>
<p>${escapeXml(method.decisionRule)}. Proportions with exact (Clopper-Pearson) 95% intervals; kappa against the reference with its 95% interval.</p>
${table(METRIC_HEADERS, [metricRow('Model', patientLevel.metrics), ...readers.map((reader) => metricRow(reader.name, reader.metrics))])}
${aucRows.length > 0 ? table(['AUC interval', 'AUC [95% CI]', 'Standard error'], aucRows) : '<p>No ROC analysis: the test set has only tumor or only normal patients.</p>'}
${youden}
<div class="figures">${rocFigure(evaluation)}${froc}</div>
<h2>Lesion level</h2>
<p>A lesion is localised when a box overlaps it with IoU &gt; ${method.localisationIou} (one-to-one, most confident box first); missed entirely means no box overlaps it at all.</p>
${table(['Rater', 'Localised', 'Overlapped, not localised', 'Missed entirely', 'False-positive boxes', 'per radiograph', 'per patient', 'boxes per normal radiograph'], [lesionRow('Model', model.lesionLevel), ...readers.map((reader) => lesionRow(reader.name, reader.lesionLevel))])}
${readers.length > 0 ? `<h2>Model versus readers</h2>
<p>Kappa difference (model minus reader), two-sided permutation test, ${method.permutationIterations} iterations, seed ${method.seed}; McNemar's exact test on paired accuracy.</p>
${table(['Reader', 'Kappa difference', 'Permutation P', 'Model-only / reader-only correct', 'McNemar P'], comparisons)}` : ''}
${evaluation.readerAgreement === undefined ? '' : agreementSection(evaluation.readerAgreement)}
<h2>Subgroups</h2>
${subgroupsSection(evaluation)}
<h2>Method</h2>
<ul>${Object.entries(method).map(([key, value]) => `<li>${escapeXml(key)}: ${escapeXml(String(value))}</li>`).join('')}</ul>
</body></html>
`;
}
