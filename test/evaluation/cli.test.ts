/**
 * `knee-tumor evaluate` end to end on a phantom test set: the JSON, the self-contained HTML report
 * and the ROC image, from the analysis CLI's own output and from the other predictions formats.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { evaluateCommand } from '../../server/src/cli/evaluate';
import type { Evaluation } from '../../server/src/evaluation/evaluate';
import { phantomSet } from './support/phantom-set';
import { pythonReference } from './support/python-reference';

let directory: string;
let stderr: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'knee-evaluate-'));
  stderr = '';
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  rmSync(directory, { recursive: true, force: true });
});

function write(name: string, value: unknown): string {
  const path = join(directory, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function readEvaluation(out: string): Evaluation {
  return JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as Evaluation;
}

test('writes evaluation.json, report.html, roc.png and froc.png from analysis results and two readers', async () => {
  const set = phantomSet(3, 120);
  const out = join(directory, 'out');
  const code = await evaluateCommand([
    '--truth', write('truth.json', set.truth),
    '--pred', write('analyses.json', set.analyses),
    '--readers', write('a.json', set.readers[0]),
    '--readers', write('b.json', set.readers[1]),
    '--out', out,
    '--bootstrap', '500',
    '--seed', '9',
  ]);
  expect(stderr).toBe('');
  expect(code).toBe(0);

  const evaluation = readEvaluation(out);
  expect(evaluation.dataset).toMatchObject({ patients: 120, radiographs: 240 });
  expect(evaluation.model.patientLevel.operatingThreshold).toBe(0.4);
  expect(evaluation.readers.map((reader) => reader.name)).toEqual(['Junior A', 'Junior B']);
  expect(evaluation.readers[0]!.versusModel.kappaDifference).toMatchObject({ iterations: 10000, seed: 9 });
  expect(evaluation.subgroups.map((subgroup) => subgroup.name)).toEqual(['center', 'age group', 'tumor size', 'device']);
  expect(evaluation.model.patientLevel.roc?.auc).toMatchObject({ method: 'bootstrap', replicates: 500, seed: 9 });
  expect(evaluation.method).toMatchObject({ aucIntervalMethod: 'bootstrap', bootstrapReplicates: 500, seed: 9 });
  expect(evaluation.readerAgreement?.pairs.map((pair) => [pair.first, pair.second])).toEqual([['Junior A', 'Junior B']]);
  expect(evaluation.readerAgreement?.fleiss).toBeUndefined();

  // The patient score and decisions recomputed here from the analysis results, and the AUC by scikit-learn.
  const scores = set.analyses.map((analysis) => Math.max(0, ...analysis.views.flatMap((view) => view.boxes.map((box) => box.confidence))));
  const tumor = set.truth.patients.map((patient) => patient.tumor);
  const [reference] = pythonReference<{ sklearnAuc: number }>([{ kind: 'auc', scores, labels: tumor }]);
  expect(evaluation.model.patientLevel.roc?.auc.value).toBeCloseTo(reference!.sklearnAuc, 12);
  const correct = set.analyses.filter((analysis, i) => analysis.patient.positive === tumor[i]).length;
  expect(evaluation.model.patientLevel.metrics.accuracy).toMatchObject({ numerator: correct, denominator: 120 });

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  expect(html).toContain('<svg');
  expect(html).toContain('Junior B');
  expect(html).toContain('bootstrap, 500 replicates, seed 9');
  expect(html).toContain('Agreement between readers');
  expect(html).not.toMatch(/<script|\bsrc=|\bhref=|url\(|@import/i);

  const roc = await sharp(join(out, 'roc.png')).metadata();
  // 144 dpi: twice the SVG's 520 x 614 (four legend lines: model, operating point, two readers).
  expect(roc).toMatchObject({ format: 'png', width: 1040, height: 1228 });
  expect(existsSync(join(out, 'froc.png'))).toBe(true);
});

test('the same results from JSON Lines and from the box predictions format; same seed, same P', async () => {
  const set = phantomSet(4, 60);
  const truth = write('truth.json', set.truth);
  const reader = write('reader.json', set.readers[0]);
  const jsonl = write('analyses.jsonl', set.analyses.map((analysis) => JSON.stringify(analysis)).join('\n') + '\n');
  const boxes = write('boxes.json', {
    images: set.analyses.flatMap((analysis) =>
      analysis.views.map((view) => ({
        imageId: view.instance.sopInstanceUid,
        boxes: view.boxes.map(({ x, y, width, height, confidence }) => ({ x, y, width, height, confidence })),
      })),
    ),
  });
  const run = async (pred: string, out: string, extra: string[] = []): Promise<Evaluation> => {
    expect(await evaluateCommand(['--truth', truth, '--pred', pred, '--readers', reader, '--out', join(directory, out), ...extra])).toBe(0);
    return readEvaluation(join(directory, out));
  };
  const fromLines = await run(jsonl, 'lines');
  const fromBoxes = await run(boxes, 'boxes', ['--threshold', '0.4']);
  expect(fromBoxes).toEqual(fromLines);
  expect(fromLines.readers[0]!.versusModel.kappaDifference.seed).toBe(1);
});

test('refuses bad usage with exit code 2 and invalid inputs with exit code 3, each with a reason', async () => {
  const set = phantomSet(5, 10);
  const truth = write('truth.json', set.truth);
  expect(await evaluateCommand(['--truth', truth])).toBe(2);
  expect(stderr).toContain('--truth, --pred and --out are required');

  stderr = '';
  const boxes = write('boxes.json', { images: [] });
  expect(await evaluateCommand(['--truth', truth, '--pred', boxes, '--out', directory])).toBe(2);
  expect(stderr).toContain('--threshold is required');

  stderr = '';
  expect(await evaluateCommand(['--truth', truth, '--pred', boxes, '--out', directory, '--threshold', '2'])).toBe(2);
  expect(stderr).toContain('--threshold must be a number from 0 to 1');

  stderr = '';
  expect(await evaluateCommand(['--truth', truth, '--pred', boxes, '--out', directory, '--threshold', '0.5'])).toBe(3);
  expect(stderr).toContain('20 reference radiograph(s) have no prediction');

  stderr = '';
  expect(await evaluateCommand(['--truth', truth, '--pred', boxes, '--out', directory, '--auc-ci', 'hanley'])).toBe(2);
  expect(stderr).toContain('--auc-ci must be one of delong, binomial, bootstrap');

  stderr = '';
  expect(await evaluateCommand(['--truth', truth, '--pred', boxes, '--out', directory, '--auc-ci', 'delong', '--bootstrap', '100'])).toBe(2);
  expect(stderr).toContain('--bootstrap');

  expect(await evaluateCommand(['--help'])).toBe(0);
});
