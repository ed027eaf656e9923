/**
 * `knee-tumor evaluate`: the study's statistics on any test set. Reads the truth, the model's
 * predictions and optional reader files, and writes evaluation.json, report.html, roc.png and
 * froc.png to --out. Returns the exit code: 0 done, 2 bad usage or invalid input, 1 other failure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isKneeTumorError, KneeTumorError } from '../errors';
import { evaluate } from '../evaluation/evaluate';
import { readJsonFile, readJsonOrJsonLines } from '../evaluation/inputs/read-files';
import { bindReader, bindToTruth, parsePredictions, parseReading, parseReferenceSet } from '../evaluation/inputs/validate';
import { frocFigure, rocFigure } from '../evaluation/report/figures';
import { renderReport } from '../evaluation/report/html';
import { svgToPng } from '../evaluation/report/png';

export const EVALUATE_USAGE = `Usage: knee-tumor evaluate --truth truth.json --pred predictions.json --out DIR [options]

  --truth FILE      reference standard (server/src/evaluation/schemas/reference-set.schema.json)
  --pred FILE       model predictions: 'knee-tumor analyze --json' output (one result, an array,
                    or JSON Lines), or the box predictions format (predictions.schema.json)
  --readers FILE    a reader's boxes (reader.schema.json); repeat for each reader
  --out DIR         where evaluation.json, report.html, roc.png and froc.png are written
  --threshold T     operating threshold (default: the one the predictions carry)
  --bootstrap N     also a percentile bootstrap 95% CI of the AUC with N replicates
  --seed S          seed of the permutation tests and the bootstrap (default 1)
`;

const DEFAULT_SEED = 1;

interface CommandOptions {
  truth: string;
  pred: string;
  readers: string[];
  out: string;
  threshold?: number;
  bootstrap?: number;
  seed: number;
}

function usageError(reason: string): KneeTumorError {
  return new KneeTumorError('bad-request', reason);
}

function numberOption(name: string, text: string | undefined, valid: (value: number) => boolean, rule: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !valid(value)) throw usageError(`--${name} must be ${rule}`);
  return value;
}

function parseOptions(argv: string[]): CommandOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        truth: { type: 'string' },
        pred: { type: 'string' },
        readers: { type: 'string', multiple: true },
        out: { type: 'string' },
        threshold: { type: 'string' },
        bootstrap: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (values.help) return 'help';
  const { truth, pred, out } = values;
  if (truth === undefined || pred === undefined || out === undefined) throw usageError('--truth, --pred and --out are required');
  const threshold = numberOption('threshold', values.threshold, (t) => t >= 0 && t <= 1, 'a number from 0 to 1');
  const bootstrap = numberOption('bootstrap', values.bootstrap, (n) => Number.isInteger(n) && n >= 2, 'a whole number of at least 2');
  const seed = numberOption('seed', values.seed, (s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32, 'a whole number from 0 to 2^32 - 1');
  return {
    truth,
    pred,
    readers: values.readers ?? [],
    out,
    ...(threshold === undefined ? {} : { threshold }),
    ...(bootstrap === undefined ? {} : { bootstrap }),
    seed: seed ?? DEFAULT_SEED,
  };
}

function operatingThreshold(given: number | undefined, carried: readonly number[]): number {
  if (given !== undefined) return given;
  if (carried.length === 1) return carried[0] as number;
  if (carried.length === 0) throw usageError('--threshold is required: the predictions carry no operating threshold');
  throw usageError(`the predictions carry ${carried.length} different operating thresholds (${carried.join(', ')}); choose one with --threshold`);
}

async function run(options: CommandOptions): Promise<void> {
  const truth = parseReferenceSet(await readJsonFile(options.truth, '--truth'));
  const predictions = parsePredictions(await readJsonOrJsonLines(options.pred, '--pred'));
  const threshold = operatingThreshold(options.threshold, predictions.operatingThresholds);
  const patients = bindToTruth(truth, predictions.images, 'prediction');
  const readers = [];
  for (const path of options.readers) {
    readers.push(bindReader(truth, parseReading(await readJsonFile(path, '--readers')), basename(path, extname(path))));
  }
  const names = readers.map((reader) => reader.name);
  if (new Set(names).size !== names.length) throw usageError('two readers have the same name; name them in their files ("reader")');

  const evaluation = evaluate(patients, readers, {
    threshold,
    seed: options.seed,
    ...(options.bootstrap === undefined ? {} : { bootstrapReplicates: options.bootstrap }),
  });
  await mkdir(options.out, { recursive: true });
  await writeFile(join(options.out, 'evaluation.json'), `${JSON.stringify(evaluation, null, 2)}\n`);
  await writeFile(join(options.out, 'report.html'), renderReport(evaluation));
  await writeFile(join(options.out, 'roc.png'), await svgToPng(rocFigure(evaluation)));
  if (evaluation.model.froc.length > 0) await writeFile(join(options.out, 'froc.png'), await svgToPng(frocFigure(evaluation)));

  const { metrics, roc } = evaluation.model.patientLevel;
  const line = (label: string, p: { value: number; numerator: number; denominator: number }): string =>
    `${label} ${p.value.toFixed(3)} (${p.numerator}/${p.denominator})`;
  process.stdout.write(
    [
      `${evaluation.dataset.patients} patients, threshold ${threshold}`,
      roc === undefined ? 'AUC n/a' : `AUC ${roc.auc.value.toFixed(3)} (${roc.auc.ci95.lower.toFixed(3)}-${roc.auc.ci95.upper.toFixed(3)})`,
      line('accuracy', metrics.accuracy),
      line('sensitivity', metrics.sensitivity),
      line('specificity', metrics.specificity),
      `kappa ${metrics.kappa.value.toFixed(3)}`,
      line('lesions localised', evaluation.model.lesionLevel.localised),
      `boxes per normal radiograph ${evaluation.model.lesionLevel.falsePositiveBoxes.perNormalRadiograph.toFixed(3)}`,
      `written to ${options.out}`,
    ].join('\n') + '\n',
  );
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options === 'help') {
      process.stdout.write(EVALUATE_USAGE);
      return 0;
    }
    await run(options);
    return 0;
  } catch (error) {
    if (isKneeTumorError(error)) {
      process.stderr.write(`knee-tumor evaluate: ${error.reason}\n`);
      if (error.code === 'bad-request') {
        process.stderr.write(`Run 'knee-tumor evaluate --help' for the options.\n`);
        return 2;
      }
      return 1;
    }
    process.stderr.write(`knee-tumor evaluate: failed: ${(error as Error).message}\n`);
    return 1;
  }
}
