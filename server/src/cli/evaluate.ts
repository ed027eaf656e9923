/**
 * `knee-tumor evaluate`: the study's statistics on any test set. Reads the truth, the model's
 * predictions and optional reader files, and writes evaluation.json, report.html, roc.png and
 * froc.png to --out. Exit codes as every subcommand (cli/output.ts): 2 bad usage, 3 invalid input.
 */
import { writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KneeTumorError } from '../errors';
import type { ReaderAgreement } from '../evaluation/agreement';
import { evaluate } from '../evaluation/evaluate';
import { readJsonFile, readJsonOrJsonLines } from '../evaluation/inputs/read-files';
import { bindReader, bindToTruth, parsePredictions, parseReading, parseReferenceSet } from '../evaluation/inputs/validate';
import { frocFigure, rocFigure } from '../evaluation/report/figures';
import { renderReport } from '../evaluation/report/html';
import { svgToPng } from '../evaluation/report/png';
import {
  AUC_INTERVAL_METHODS,
  aucIntervalLabel,
  DEFAULT_BOOTSTRAP_REPLICATES,
  type AucIntervalMethod,
} from '../evaluation/statistics/auc-interval';
import type { Kappa } from '../evaluation/statistics/kappa';
import { choiceOption, EXIT, numberOption, ownLines, prepareOutputFolder, printOut, reportFailure, UsageError } from './output';

export const EVALUATE_USAGE = `Usage: knee-tumor evaluate --truth truth.json --pred predictions.json --out DIR [options]

  --truth FILE      reference standard (server/src/evaluation/schemas/reference-set.schema.json)
  --pred FILE       model predictions: 'knee-tumor analyze --json' output (one result, an array,
                    or JSON Lines), or the box predictions format (predictions.schema.json)
  --readers FILE    a reader's boxes (reader.schema.json); repeat for each reader; with two or
                    more, their agreement (Cohen's kappa per pair, Fleiss' kappa over 3+)
  --out DIR         where evaluation.json, report.html, roc.png and froc.png are written
  --threshold T     operating threshold (default: the one the predictions carry)
  --auc-ci METHOD   the AUC's 95% CI: delong (default), binomial (exact, AUC x n as MedCalc
                    computes it, n = all patients) or bootstrap (percentile, over patients
                    stratified by class)
  --bootstrap N     replicates of the bootstrap CI (default ${DEFAULT_BOOTSTRAP_REPLICATES}); implies --auc-ci bootstrap
  --seed S          seed of the permutation tests and the bootstrap (default 1)
`;

const DEFAULT_SEED = 1;

interface CommandOptions {
  truth: string;
  pred: string;
  readers: string[];
  out: string;
  threshold?: number;
  aucInterval: AucIntervalMethod;
  bootstrapReplicates: number;
  seed: number;
}

function parseOptions(argv: string[]): CommandOptions | 'help' {
  const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        truth: { type: 'string' },
        pred: { type: 'string' },
        readers: { type: 'string', multiple: true },
        out: { type: 'string' },
        threshold: { type: 'string' },
        'auc-ci': { type: 'string' },
        bootstrap: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (values.help) return 'help';
  const { truth, pred, out } = values;
  if (truth === undefined || pred === undefined || out === undefined) throw new UsageError('--truth, --pred and --out are required');
  const threshold = numberOption('threshold', values.threshold, (t) => t >= 0 && t <= 1, 'a number from 0 to 1');
  const bootstrap = numberOption('bootstrap', values.bootstrap, (n) => Number.isInteger(n) && n >= 2, 'a whole number of at least 2');
  const aucInterval = choiceOption('auc-ci', values['auc-ci'], AUC_INTERVAL_METHODS) ?? (bootstrap === undefined ? 'delong' : 'bootstrap');
  if (bootstrap !== undefined && aucInterval !== 'bootstrap') throw new UsageError(`--bootstrap sets the bootstrap's replicates; it does not go with --auc-ci ${aucInterval}`);
  const seed = numberOption('seed', values.seed, (s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32, 'a whole number from 0 to 2^32 - 1');
  return {
    truth,
    pred,
    readers: values.readers ?? [],
    out,
    ...(threshold === undefined ? {} : { threshold }),
    aucInterval,
    bootstrapReplicates: bootstrap ?? DEFAULT_BOOTSTRAP_REPLICATES,
    seed: seed ?? DEFAULT_SEED,
  };
}

function operatingThreshold(given: number | undefined, carried: readonly number[]): number {
  if (given !== undefined) return given;
  if (carried.length === 1) return carried[0] as number;
  if (carried.length === 0) throw new UsageError('--threshold is required: the predictions carry no operating threshold');
  throw new UsageError(`the predictions carry ${carried.length} different operating thresholds (${carried.join(', ')}); choose one with --threshold`);
}

function agreementLines(agreement: ReaderAgreement | undefined): string[] {
  if (agreement === undefined) return [];
  // "to", not a dash: a kappa's lower bound can be negative.
  const kappaText = (kappa: Kappa): string => `${kappa.value.toFixed(3)} (95% CI ${kappa.ci95.lower.toFixed(3)} to ${kappa.ci95.upper.toFixed(3)})`;
  return [
    ...agreement.pairs.map((pair) => `readers ${pair.first} / ${pair.second}: Cohen's kappa ${kappaText(pair.kappa)}`),
    ...(agreement.fleiss === undefined ? [] : [`readers (${agreement.fleiss.readers.length}): Fleiss' kappa ${kappaText(agreement.fleiss.kappa)}`]),
  ];
}

async function run(options: CommandOptions): Promise<void> {
  await prepareOutputFolder(options.out);
  const truth = parseReferenceSet(await readJsonFile(options.truth, '--truth'));
  const predictions = parsePredictions(await readJsonOrJsonLines(options.pred, '--pred'));
  const threshold = operatingThreshold(options.threshold, predictions.operatingThresholds);
  const patients = bindToTruth(truth, predictions.images, 'prediction');
  const readers = [];
  for (const path of options.readers) {
    readers.push(bindReader(truth, parseReading(await readJsonFile(path, '--readers')), basename(path, extname(path))));
  }
  const names = readers.map((reader) => reader.name);
  if (new Set(names).size !== names.length) throw new KneeTumorError('bad-request', 'two readers have the same name; name them in their files ("reader")');

  const evaluation = evaluate(patients, readers, {
    threshold,
    aucInterval: options.aucInterval,
    bootstrapReplicates: options.bootstrapReplicates,
    seed: options.seed,
  });
  await writeFile(join(options.out, 'evaluation.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
  await writeFile(join(options.out, 'report.html'), renderReport(evaluation));
  await writeFile(join(options.out, 'roc.png'), await svgToPng(rocFigure(evaluation)));
  if (evaluation.model.froc.length > 0) await writeFile(join(options.out, 'froc.png'), await svgToPng(frocFigure(evaluation)));

  const { metrics, roc } = evaluation.model.patientLevel;
  const line = (label: string, p: { value: number; numerator: number; denominator: number }): string =>
    `${label} ${p.value.toFixed(3)} (${p.numerator}/${p.denominator})`;
  printOut(
    `${evaluation.dataset.patients} patients, threshold ${threshold.toFixed(3)}`,
    roc === undefined
      ? 'AUC n/a'
      : `AUC ${roc.auc.value.toFixed(3)} (95% CI ${roc.auc.ci95.lower.toFixed(3)}-${roc.auc.ci95.upper.toFixed(3)}, ${aucIntervalLabel(roc.auc)})`,
    line('accuracy', metrics.accuracy),
    line('sensitivity', metrics.sensitivity),
    line('specificity', metrics.specificity),
    `kappa ${metrics.kappa.value.toFixed(3)}`,
    ...agreementLines(evaluation.readerAgreement),
    line('lesions localised', evaluation.model.lesionLevel.localised),
    `boxes per normal radiograph ${evaluation.model.lesionLevel.falsePositiveBoxes.perNormalRadiograph.toFixed(3)}`,
    `written to ${options.out}`,
  );
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options === 'help') {
      printOut(...ownLines(EVALUATE_USAGE));
      return EXIT.ok;
    }
    await run(options);
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, false, `Run 'knee-tumor evaluate --help' for the options.`);
  }
}
