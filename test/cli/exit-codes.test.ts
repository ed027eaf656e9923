/**
 * One table of exit codes for every subcommand: the same kind of problem exits the same way,
 * whichever subcommand meets it (wrong usage 2, refused input 3, our own set-up or output 1).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePatient } from '../../models/phantoms/generate';
import { runCli } from '../support/cli';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

let dir: string;
/** A path below a regular file: no folder can ever be made there, even by root. */
let unwritable: string;
let truth: string;
let study: string;
const env = { KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'exit-codes-'));
  const file = path.join(dir, 'a-file');
  await writeFile(file, 'not a folder');
  unwritable = path.join(file, 'out');
  truth = path.join(dir, 'truth.json');
  await writeFile(truth, '{"not": "a reference set"}');
  study = path.join(dir, 'study');
  const patient = generatePatient(5, 0, { width: 300, height: 380, tumorFraction: 0 });
  await mkdir(path.join(dir, 'not-dicom'));
  await writeFile(path.join(dir, 'not-dicom', 'notes.txt'), 'not DICOM');
  await mkdir(study);
  await writeFile(path.join(study, 'ap.dcm'), patient.ap);
  await writeFile(path.join(study, 'lat.dcm'), patient.lateral);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('wrong usage exits 2 in every subcommand, naming the option', () => {
  it.each([
    [['analyze', '--dir', 'x', '--threshold', '2'], '--threshold must be a number from 0 to 1'],
    [['analyze', '--dir', 'x', '--provider', 'gpu'], '--provider must be one of cpu, webgpu'],
    [['analyze', '--dir', 'x', '--merge', 'mean'], '--merge must be one of nms, wbf'],
    [['evaluate', '--truth', 't', '--pred', 'p', '--out', 'o', '--threshold', '2'], '--threshold must be a number from 0 to 1'],
    [['phantoms', '--out', 'o', '--patients', 'many'], '--patients must be a whole number'],
    [['phantoms', '--out', 'o', '--tumor-fraction', '2'], '--tumor-fraction must be a number from 0 to 1'],
    [['training-set', '--reference', 'r.json'], '--out is required'],
    [['convert', 'only-one-argument'], 'usage: knee-tumor convert'],
    [['analyze', '--no-such-option'], "Unknown option '--no-such-option'"],
  ])('%j', async (args, message) => {
    const run = await runCli(args, env);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
  });
});

describe('an output that cannot be written exits 1 as output-unwritable, before anything is written', () => {
  it.each([
    () => ['analyze', '--dir', study, '--out', unwritable],
    () => ['evaluate', '--truth', truth, '--pred', truth, '--out', unwritable, '--threshold', '0.5'],
    () => ['phantoms', '--out', unwritable, '--patients', '1'],
    () => ['training-set', '--reference', truth, '--out', unwritable],
    () => ['convert', path.join(study, 'ap.dcm'), path.join(unwritable, 'ap.png')],
  ])('%#', async (args) => {
    const run = await runCli(args(), env);
    expect(run.stderr).toContain('output-unwritable');
    expect(run.stderr).not.toContain('internal');
    expect(run.code).toBe(1);
  });
});

describe('input that is refused exits 3 in every subcommand', () => {
  it.each([
    [() => ['evaluate', '--truth', truth, '--pred', truth, '--out', path.join(dir, 'evaluation'), '--threshold', '0.5'], 'bad-request'],
    [() => ['training-set', '--reference', truth, '--out', path.join(dir, 'training-set')], 'bad-request'],
    [() => ['analyze', '--dir', path.join(dir, 'not-dicom')], 'study-not-found'],
    [() => ['convert', truth, path.join(dir, 'truth.png')], 'dicom-unreadable'],
  ])('%#: %s', async (args, code) => {
    const run = await runCli(args(), env);
    expect(run.stderr).toContain(`knee-tumor: ${code}: `);
    expect(run.code).toBe(3);
  });
});

it('prints the operating threshold to three decimals', async () => {
  const run = await runCli(['analyze', '--dir', study, '--threshold', '0.24517574906349182'], env);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('operating threshold 0.245\n');
});
