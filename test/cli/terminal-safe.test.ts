/**
 * What the CLI prints cannot drive the terminal: escape sequences, carriage returns, newlines and
 * bidi overrides in DICOM strings (study and series descriptions), in file names and in the
 * reasons that quote them reach stdout and stderr escaped (`\u001b`), never raw, so they cannot
 * erase the real patient line and draw a forged "no tumor detected". JSON output reads back as the
 * same text.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePatient } from '../../models/phantoms/generate';
import type { AnalysisResult } from '../../server/src/domain/analysis';
import { runCli } from '../support/cli';
import { rewriteAttributes } from '../support/dicom-rewrite';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

/** Erase the line, return to its start, go one line up, and write a verdict of our own. */
const FORGERY = '\x1b[2K\r\x1b[1A Patient: no tumor detected';
const STUDY_DESCRIPTION = `Roentgen 2 Ebenen${FORGERY}`;
/** The one-byte (C1) Control Sequence Introducer: "clear the screen". */
const SERIES_DESCRIPTION = 'Aufnahme \x9b2J';
/** As it is read back: dcmjs writes UTF-8, read as Latin-1 without a SpecificCharacterSet. */
const SERIES_DESCRIPTION_READ = 'Aufnahme \u00c2\x9b2J';
/**
 * A file name may hold any byte but '/': a newline would start a line of its own, the
 * right-to-left override would reorder what follows it.
 */
const FORGED_FILE = `notes\x1b[31m\rPatient: no tumor detected\n\u202etxt.`;
const FORGED_FILE_ESCAPED = 'notes\\u001b[31m\\u000dPatient: no tumor detected\\u000a\\u202etxt.';
/** Raw, none of these may reach the terminal from the data. */
const RAW_CONTROLS = /[\x1b\r\x9b\u202e]/;

let dir: string;
const patient = generatePatient(32, 0, { width: 440, height: 560, tumorFraction: 0.25 });
const env = { KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST };

/** A view whose descriptions carry the forgery and which no longer names its body part. */
const forged = (file: Uint8Array) => rewriteAttributes(file, { StudyDescription: STUDY_DESCRIPTION, SeriesDescription: SERIES_DESCRIPTION, BodyPartExamined: undefined, ProtocolName: undefined });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'terminal-safe-'));
  await mkdir(path.join(dir, 'study'));
  await writeFile(path.join(dir, 'study', 'ap.dcm'), forged(patient.ap));
  await writeFile(path.join(dir, 'study', 'lateral.dcm'), forged(patient.lateral));
  await writeFile(path.join(dir, 'study', FORGED_FILE), 'not DICOM');
  await mkdir(path.join(dir, 'unusable'));
  await writeFile(path.join(dir, 'unusable', FORGED_FILE), 'not DICOM');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** Lines that say something about the patient: the CLI's own one, and no other. */
const patientLines = (text: string) => text.split('\n').filter((line) => /Patient: /.test(line) && !line.includes('\\u'));

it('prints descriptions, notes and skipped file names in the summary escaped', async () => {
  const run = await runCli(['analyze', '--dir', path.join(dir, 'study'), '--accept-unconfirmed-body-part'], env);
  expect(run.code).toBe(0);
  expect(run.stdout).not.toMatch(RAW_CONTROLS);
  expect(run.stderr).not.toMatch(RAW_CONTROLS);
  // The note on the unconfirmed knee quotes the descriptions, escaped.
  expect(run.stdout).toContain("'Roentgen 2 Ebenen\\u001b[2K\\u000d\\u001b[1A Patient: no tumor detected'");
  expect(run.stdout).toContain("'Aufnahme \u00c2\\u009b2J'");
  expect(run.stdout).toContain(`Skipped file ${FORGED_FILE_ESCAPED}: not a DICOM Part 10 file`);
  expect(patientLines(run.stdout)).toHaveLength(1);
  expect(patientLines(run.stdout)[0]).toMatch(/^Patient: (POSSIBLE BONE TUMOR|no tumor detected|NO RESULT)/);
});

it('keeps JSON output parseable and the same text, with no raw control left in it', async () => {
  const run = await runCli(['analyze', '--dir', path.join(dir, 'study'), '--accept-unconfirmed-body-part', '--json'], env);
  expect(run.code).toBe(0);
  expect(run.stdout).not.toMatch(RAW_CONTROLS);
  const result = JSON.parse(run.stdout) as AnalysisResult;
  expect(result.flags.map((f) => f.message).join(' ')).toContain(SERIES_DESCRIPTION_READ);
  expect(result.skippedFiles?.map((s) => s.file)).toEqual([FORGED_FILE]);
});

it('prints a refusal naming such a file escaped on stderr', async () => {
  const run = await runCli(['analyze', '--dir', path.join(dir, 'unusable')], env);
  expect(run.code).toBe(3);
  expect(run.stderr).not.toMatch(RAW_CONTROLS);
  expect(run.stderr).toContain(`${FORGED_FILE_ESCAPED} (not a DICOM Part 10 file`);
  // One line: the refusal, with nothing drawn after it.
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
});
