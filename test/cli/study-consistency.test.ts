/**
 * The CLI on folders that are not one patient's two radiographs (issue 19): the AP of one phantom
 * patient beside the lateral of another under one StudyInstanceUID, two views sharing one SOP
 * Instance UID, a view stored as a Secondary Capture, CT or mammography object that says Modality
 * CR/DX, and an unreadable AP file beside a good lateral. Each is refused with what happened.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePatient } from '../../models/phantoms/generate';
import { runCli } from '../support/cli';
import { rewriteAttributes } from '../support/dicom-rewrite';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

let dir: string;
const env = { KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST };
// A left knee on a DX device.
const patient = generatePatient(31, 0, { width: 440, height: 560, tumorFraction: 0.25 });

/** Writes a study folder of named files and returns its path. */
async function studyFolder(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder, { recursive: true });
  await Promise.all(Object.entries(files).map(([file, bytes]) => writeFile(path.join(folder, file), bytes)));
  return folder;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'study-consistency-'));
});

afterAll(() => rm(dir, { recursive: true, force: true }));

it('refuses the AP of one phantom patient beside the lateral of another, same knee, under one StudyInstanceUID', async () => {
  // The test team's reproduction: patients 1 and 4 of seed 1 both have a left knee; patient 4 has a tumor.
  const phantoms = path.join(dir, 'phantoms');
  expect((await runCli(['phantoms', '--seed', '1', '--patients', '4', '--out', phantoms, '--quiet'])).code).toBe(0);
  const reference = JSON.parse(await readFile(path.join(phantoms, 'reference.json'), 'utf8')) as {
    patients: { patientId: string; studyInstanceUid: string; laterality: string; tumor: boolean }[];
  };
  const [first, , , fourth] = reference.patients;
  if (!first || !fourth) throw new Error('the phantom set has fewer than 4 patients');
  expect([first.laterality, fourth.laterality, fourth.tumor]).toEqual(['L', 'L', true]);
  const lateral = new Uint8Array(await readFile(path.join(phantoms, fourth.patientId, 'LAT.dcm')));
  const folder = await studyFolder('two-patients', {
    'AP.dcm': new Uint8Array(await readFile(path.join(phantoms, first.patientId, 'AP.dcm'))),
    'LAT.dcm': rewriteAttributes(lateral, { StudyInstanceUID: first.studyInstanceUid }),
  });
  const run = await runCli(['analyze', '--dir', folder, '--json'], env);
  expect(run.code).toBe(3);
  expect(JSON.parse(run.stdout)).toEqual({
    error: {
      code: 'study-inconsistent',
      reason: "the AP and lateral views differ in Patient ID, Patient's Name, Patient's Birth Date: they are not one patient's study",
    },
  });
  // The attributes are named, never their values.
  for (const id of [first.patientId, fourth.patientId]) expect(run.stdout + run.stderr).not.toContain(id);
});

it('refuses two views that share one SOP Instance UID', async () => {
  const apUid = patient.reference.images.find((i) => i.view === 'AP')?.imageId;
  if (!apUid) throw new Error('the phantom has no AP image');
  const folder = await studyFolder('one-uid', { 'ap.dcm': patient.ap, 'lat.dcm': rewriteAttributes(patient.lateral, { SOPInstanceUID: apUid }) });
  const run = await runCli(['analyze', '--dir', folder], env);
  expect(run.code).toBe(3);
  expect(run.stderr).toContain('knee-tumor: study-inconsistent: 2 images of the study share 1 SOP Instance UID(s); each image must have its own\n');
  expect(run.stderr).not.toContain(apUid);
});

describe.each([
  ['Secondary Capture Image Storage', '1.2.840.10008.5.1.4.1.1.7'],
  ['CT Image Storage', '1.2.840.10008.5.1.4.1.1.2'],
  ['Digital Mammography X-Ray Image Storage - For Presentation', '1.2.840.10008.5.1.4.1.1.1.2'],
])('a lateral view stored as %s (%s) with Modality DX', (name, uid) => {
  const sopClass = `${name} (${uid})`;
  const notRadiograph = rewriteAttributes(patient.lateral, { SOPClassUID: uid });

  it('is not taken for the lateral view: the study is refused naming the class', async () => {
    const folder = await studyFolder(`sop-${uid}`, { 'ap.dcm': patient.ap, 'lat.dcm': notRadiograph });
    const run = await runCli(['analyze', '--dir', folder], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `knee-tumor: view-missing: the lateral view is missing: the study has 1 knee radiograph(s) (AP found); it also holds 1 ${sopClass} labelled DX, not a radiograph SOP Class\n`,
    );
  });

  it('is not converted', async () => {
    const file = path.join(dir, `sop-${uid}.dcm`);
    await writeFile(file, notRadiograph);
    const run = await runCli(['convert', file, path.join(dir, `sop-${uid}.png`)], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`knee-tumor: not-radiograph: the image is ${sopClass}, not a radiograph SOP Class, though its Modality is DX`);
  });
});

it('names an unreadable AP file and its parse error when the AP view is missing, not only "the AP view is missing"', async () => {
  // The header breaks off inside an attribute: the file begins as DICOM but cannot be parsed.
  const folder = await studyFolder('unreadable-ap', { 'ap.dcm': patient.ap.subarray(0, 400), 'lat.dcm': patient.lateral, 'notes.txt': new TextEncoder().encode('not DICOM') });
  const run = await runCli(['analyze', '--dir', folder, '--json'], env);
  expect(run.code).toBe(3);
  const { error } = JSON.parse(run.stdout) as { error: { code: string; reason: string } };
  expect(error.code).toBe('dicom-unreadable');
  expect(error.reason).toMatch(
    /^ap\.dcm cannot be read: the DICOM file cannot be parsed: .*buffer overrun.*; without it, the AP view is missing: the study has 1 knee radiograph\(s\) \(lateral found\)$/,
  );
  // A file that is not DICOM at all cannot hold the view: it is not named.
  expect(error.reason).not.toContain('notes.txt');
});
