/**
 * The shipped ensemble (models/knee-tumor-v2) as a user runs it, with the CLI's embedded default
 * model: the manifest and its five folds load (sha256 checked), and on fresh phantoms (a seed no
 * fold and no evaluation saw) it finds tumors and leaves normal knees alone about as often as
 * its model card says. A sample of five each, so the bounds are loose: at least 4 of 5 lesions
 * found (a box at the operating threshold with IoU > 0.2), at least 3 of 5 normal patients called
 * negative (loose: the card's held-out specificity is higher).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GeneratedPatient } from '../../models/phantoms/generate';
import { DEFAULT_MANIFEST } from '../../server/src/config';
import { DEMONSTRATION_MODEL_NOTICE, type AnalysisResult } from '../../server/src/domain/analysis';
import { intersectionOverUnion } from '../../server/src/evaluation/matching';
import { loadManifest } from '../../server/src/model/manifest';
import { runCli } from '../support/cli';
import { freshPhantoms } from '../support/fresh-phantoms';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipped-model-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `knee-tumor analyze --dir` with no --model: the embedded default. */
async function analyse(patient: GeneratedPatient): Promise<AnalysisResult> {
  const study = path.join(dir, patient.reference.patientId);
  await mkdir(study);
  await writeFile(path.join(study, 'AP.dcm'), patient.ap);
  await writeFile(path.join(study, 'LAT.dcm'), patient.lateral);
  const run = await runCli(['analyze', '--dir', study, '--json']);
  // A demonstration model: the CLI says so once, on stderr, and the JSON on stdout is untouched.
  expect(run.stderr).toBe(`knee-tumor: ${DEMONSTRATION_MODEL_NOTICE}\n`);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as AnalysisResult;
}

function lesionFound(patient: GeneratedPatient, result: AnalysisResult): boolean {
  return result.views.some((view) => {
    const reference = patient.reference.images.find((image) => image.imageId === view.instance.sopInstanceUid)?.boxes[0];
    return reference !== undefined && view.boxes.some((box) => box.confidence >= result.operatingThreshold && intersectionOverUnion(box, reference) > 0.2);
  });
}

it('is the default model: a manifest with five verified folds, not for clinical use', async () => {
  expect(DEFAULT_MANIFEST).toBe(path.resolve(__dirname, '../../models/knee-tumor-v2/manifest.json'));
  const { manifest, folds, identity } = await loadManifest(DEFAULT_MANIFEST);
  expect(folds).toHaveLength(5);
  expect(manifest.notForClinicalUse).toBe(true);
  expect(manifest.modelCard).toBe('MODEL_CARD.md');
  expect(identity).toMatchObject({ name: 'knee-tumor-phantom-yolov5n-320', version: '2.0.0', trainingData: 'synthetic', intendedUse: 'demonstration' });
});

it('finds the lesions of fresh tumor phantoms', async () => {
  const found: boolean[] = [];
  for (const patient of freshPhantoms(true, 5)) {
    const result = await analyse(patient);
    expect(result.model.name).toBe('knee-tumor-phantom-yolov5n-320');
    found.push(result.patient.positive && lesionFound(patient, result));
  }
  expect(found.filter(Boolean).length).toBeGreaterThanOrEqual(4);
}, 600000);

it('calls most fresh normal phantoms negative', async () => {
  const negative: boolean[] = [];
  for (const patient of freshPhantoms(false, 5)) negative.push(!(await analyse(patient)).patient.positive);
  expect(negative.filter(Boolean).length).toBeGreaterThanOrEqual(3);
}, 600000);
