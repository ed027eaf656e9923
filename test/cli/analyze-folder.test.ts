/**
 * The CLI on a folder: a two-view phantom study written as DICOM files with meaningless names,
 * a file that is not DICOM and a broken DICOM file beside them, a CT slice in a second folder,
 * and a folder holding only unusable files.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { generatePatient } from '../../models/phantoms/generate';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { DEMONSTRATION_MODEL_NOTICE, type AnalysisResult } from '../../server/src/domain/analysis';
import { runCli } from '../support/cli';
import { SHARED_DICOM } from '../support/shared-data';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

let dir: string;
const patient = generatePatient(31, 0, { width: 440, height: 560, tumorFraction: 0.25 });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'analyze-folder-'));
  await mkdir(path.join(dir, 'study'));
  // Names say nothing about the views: the lateral is called "a", the AP "b".
  await writeFile(path.join(dir, 'study', 'a'), patient.lateral);
  await writeFile(path.join(dir, 'study', 'b'), patient.ap);
  await writeFile(path.join(dir, 'study', 'notes.txt'), 'not DICOM');
  // A DICOM file cut off inside its header, in a subfolder.
  await mkdir(path.join(dir, 'study', 'extra'));
  await writeFile(path.join(dir, 'study', 'extra', 'broken.dcm'), patient.ap.subarray(0, 400));
  await mkdir(path.join(dir, 'unusable'));
  await copyFile(path.join(dir, 'study', 'notes.txt'), path.join(dir, 'unusable', 'notes.txt'));
  await copyFile(path.join(dir, 'study', 'extra', 'broken.dcm'), path.join(dir, 'unusable', 'broken.dcm'));
  // A link to a file that is gone: listed, but it cannot be read.
  await symlink(path.join(dir, 'gone.dcm'), path.join(dir, 'unusable', 'gone.dcm'));
  await mkdir(path.join(dir, 'ct'));
  await copyFile(path.join(SHARED_DICOM, 'CT-MONO2-16-ankle.dcm'), path.join(dir, 'ct', 'slice.dcm'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const env = { KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST };
const NOT_DICOM = 'not a DICOM Part 10 file (no DICM prefix at byte 128)';
const BROKEN = /^the DICOM file cannot be parsed: .*buffer overrun/;

it('analyses the study in a folder, finding the views from their DICOM attributes and listing the files it skipped', async () => {
  const out = path.join(dir, 'out');
  const run = await runCli(['analyze', '--dir', path.join(dir, 'study'), '--json', '--out', out], env);
  // Nothing on stderr but the test detector's notice.
  expect(run.stderr).toBe(`knee-tumor: ${DEMONSTRATION_MODEL_NOTICE}\n`);
  expect(run.code).toBe(0);
  const result = JSON.parse(run.stdout) as AnalysisResult;
  expect(result.skippedFiles).toEqual([
    { file: 'extra/broken.dcm', reason: expect.stringMatching(BROKEN) },
    { file: 'notes.txt', reason: NOT_DICOM },
  ]);
  expect(JSON.parse(await readFile(path.join(out, 'analysis.json'), 'utf8'))).toEqual(result);
  expect(result.studyInstanceUid).toBe(patient.reference.studyInstanceUid);
  const imageIds = Object.fromEntries(patient.reference.images.map((i) => [i.view, i.imageId]));
  expect(result.views.map((v) => [v.view, v.instance.sopInstanceUid])).toEqual([
    ['AP', imageIds.AP],
    ['LATERAL', imageIds.LATERAL],
  ]);
  expect(result.views.every((v) => v.imageSize.width === 440 && v.imageSize.height === 560)).toBe(true);
});

it('prints a readable summary without --json', async () => {
  const run = await runCli(['analyze', '--dir', path.join(dir, 'study')], env);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^Study /);
  expect(run.stdout).toMatch(/AP view: (POSITIVE|negative)/);
  expect(run.stdout).toMatch(/Lateral view: (POSITIVE|negative)/);
  expect(run.stdout).toContain('AI-generated result');
  expect(run.stdout).toContain(`Skipped file notes.txt: ${NOT_DICOM}`);
  expect(run.stdout).toMatch(/^Skipped file extra\/broken\.dcm: the DICOM file cannot be parsed: /m);
  // Never the patient's identifier.
  expect(run.stdout).not.toContain(patient.reference.patientId);
});

it('refuses a folder with nothing usable, naming the DICOM file it cannot parse first, then every skipped file and why', async () => {
  const run = await runCli(['analyze', '--dir', path.join(dir, 'unusable')], env);
  expect(run.code).toBe(3);
  expect(run.stderr).toMatch(/dicom-unreadable: broken\.dcm cannot be read: the DICOM file cannot be parsed: .*; without it, no DICOM images in /);
  expect(run.stderr).toContain('3 file(s) skipped: broken.dcm (the DICOM file cannot be parsed: ');
  expect(run.stderr).toContain('gone.dcm (the file cannot be read: ENOENT)');
  expect(run.stderr).toContain(`notes.txt (${NOT_DICOM})`);
});

it('refuses a folder holding a CT slice', async () => {
  const run = await runCli(['analyze', '--dir', path.join(dir, 'ct')], env);
  expect(run.code).toBe(3);
  expect(run.stderr).toMatch(/not-radiograph: the study holds no radiograph \(1 CT image\)/);
});

it('converts a file and refuses one it cannot read, leaving no output', async () => {
  const png = path.join(dir, 'ap.png');
  const converted = await runCli(['convert', path.join(dir, 'study', 'b'), png], env);
  expect(converted.code).toBe(0);
  expect(converted.stdout).toContain('440 x 560');
  // One gray channel holding exactly the pixels the detector sees.
  expect((await sharp(png).metadata()).channels).toBe(1);
  const data = await sharp(png).extractChannel(0).raw().toBuffer();
  expect(Buffer.from(data).equals(Buffer.from((await decodeForDetector(patient.ap)).data))).toBe(true);
  const missing = path.join(dir, 'none.png');
  const refused = await runCli(['convert', path.join(dir, 'study', 'notes.txt'), missing], env);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toMatch(/dicom-unreadable: not a DICOM Part 10 file/);
  await expect(stat(missing)).rejects.toThrow();
});

it('answers an unknown option as a usage error (exit 2), not an internal one', async () => {
  const run = await runCli(['analyze', '--bogus'], env);
  expect(run.code).toBe(2);
  expect(run.stderr).toBe("knee-tumor: Unknown option '--bogus'\n");
});
