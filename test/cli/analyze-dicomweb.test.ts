/**
 * The CLI against a real Orthanc: studies made from the real RG3 radiograph (its AP view, and a
 * copy relabelled as the lateral view) are stored over STOW-RS, then located over QIDO-RS and
 * read over WADO-RS. The test detector boxes the bright bone, which is enough to check the flow;
 * what the boxes mean is checked in test/detect.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { DEMONSTRATION_MODEL_NOTICE, type AnalysisResult } from '../../server/src/domain/analysis';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { patchStrings, variantUid } from '../support/dicom-patch';
import { runCli } from '../support/cli';
import { SHARED_DICOM } from '../support/shared-data';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';
import { parsePart10 } from '../../server/src/dicom/part10';

const CREDENTIALS = { username: 'analysis', password: 'pacs-secret' };
const read = (name: string) => new Uint8Array(readFileSync(path.join(SHARED_DICOM, name)));

/** A two-view study from one RG3 file: the AP and a lateral copy, each with its own new UIDs. */
function twoViewStudy(name: string, studyVariant: number, overrides: Record<string, string> = {}): { files: Uint8Array[]; study: string; sops: string[] } {
  const original = read(name);
  const header = parsePart10(original, { headerOnly: true });
  const uid = (tag: string) => header.string(tag) as string;
  const study = variantUid(uid('x0020000d'), studyVariant);
  // Every study gets its own series: a series UID shared by two studies is invalid, and a PACS may not find it by study.
  const ap = patchStrings(original, {
    x0020000d: study,
    x0020000e: variantUid(uid('x0020000e'), studyVariant * 10 + 1),
    x00080018: variantUid(uid('x00080018'), studyVariant * 10 + 1),
    ...overrides,
  });
  const lateral = patchStrings(original, {
    x0020000d: study,
    x0020000e: variantUid(uid('x0020000e'), studyVariant * 10 + 2),
    x00080018: variantUid(uid('x00080018'), studyVariant * 10 + 2),
    // The CT slice has no ViewPosition to relabel.
    ...(header.elements.x00185101 ? { x00185101: 'LL' } : {}),
    ...overrides,
  });
  const sop = (f: Uint8Array) => parsePart10(f, { headerOnly: true }).string('x00080018') as string;
  return { files: [ap, lateral], study, sops: [sop(ap), sop(lateral)] };
}

let orthanc: RunningOrthanc;
let env: NodeJS.ProcessEnv;
let outDir: string;
const studies = {
  explicitLE: twoViewStudy('RG3_512_explicitLE.dcm', 1),
  jpeg2000: twoViewStudy('RG3_J2KR.dcm', 2),
  ct: twoViewStudy('CT-MONO2-16-ankle.dcm', 3, { x00080060: 'CT' }),
  chest: twoViewStudy('RG1_J2KI.dcm', 4),
  // The same 1760 x 1760 pixels as RG3_J2KR, RLE-compressed: both lossless, so both decode to the same image.
  rle: twoViewStudy('RG3_rle.dcm', 6),
};
// Labelled KNEE, so that the missing view is what refuses it.
const apOnly = twoViewStudy('RG3_512_explicitLE.dcm', 5, { x00180015: 'KNEE' });

beforeAll(async () => {
  orthanc = await startOrthanc({ credentials: CREDENTIALS });
  const client = new DicomWebClient({
    dicomWebUrl: orthanc.dicomWebUrl,
    auth: { type: 'basic', ...CREDENTIALS },
    timeoutMs: 20000,
  });
  await client.storeInstances([...Object.values(studies).flatMap((s) => s.files), apOnly.files[0] as Uint8Array]);
  env = {
    KNEE_TUMOR_DICOMWEB_USER: CREDENTIALS.username,
    KNEE_TUMOR_DICOMWEB_PASSWORD: CREDENTIALS.password,
    KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST,
  };
  outDir = await mkdtemp(path.join(os.tmpdir(), 'analyze-'));
});

afterAll(async () => {
  await orthanc?.stop();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('knee-tumor analyze --dicomweb', () => {
  it.each([
    ['Explicit VR Little Endian', 'explicitLE', 512],
    ['JPEG 2000 lossless', 'jpeg2000', 1760],
  ] as const)('analyses a %s study held in Orthanc, with annotated images', async (_, key, size) => {
    const { study, sops } = studies[key];
    const out = path.join(outDir, key);
    // RG3 is a lower leg labelled EXTREMITY: analysed only because the site accepts unconfirmed studies.
    const run = await runCli(['analyze', '--dicomweb', orthanc.dicomWebUrl, '--study', study, '--json', '--out', out, '--accept-unconfirmed-body-part'], env);
    // Nothing on stderr but the test detector's notice.
    expect(run.stderr).toBe(`knee-tumor: ${DEMONSTRATION_MODEL_NOTICE}\n`);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as AnalysisResult;
    expect(result.studyInstanceUid).toBe(study);
    expect(result.views.map((v) => [v.view, v.instance.sopInstanceUid])).toEqual([
      ['AP', sops[0]],
      ['LATERAL', sops[1]],
    ]);
    expect(result.views.every((v) => v.imageSize.width === size && v.imageSize.height === size)).toBe(true);
    expect(result.model).toMatchObject({ name: 'test-bright-region-detector', version: 'test-1' });
    expect(result.aiGenerated).toBe(true);
    expect(result.flags.map((f) => f.code)).toContain('body-part-unconfirmed');
    // The bright tibia is boxed on both views; every box lies inside the image.
    for (const view of result.views) {
      expect(view.boxes.length).toBeGreaterThan(0);
      for (const b of view.boxes) {
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.x + b.width).toBeLessThanOrEqual(size + 1e-6);
      }
    }
    expect(result.patient.score).toBe(Math.max(...result.views.flatMap((v) => v.boxes.map((b) => b.confidence))));
    expect(JSON.parse(await readFile(path.join(out, 'analysis.json'), 'utf8'))).toEqual(result);
    const png = await sharp(path.join(out, 'lateral.png')).metadata();
    expect([png.width, png.height]).toEqual([size, size]);
  });

  it('gives the same result for the same pixels stored in two transfer syntaxes (JPEG 2000 lossless, RLE)', async () => {
    const out = path.join(outDir, 'rle');
    const run = await runCli(['analyze', '--dicomweb', orthanc.dicomWebUrl, '--study', studies.rle.study, '--json', '--out', out, '--accept-unconfirmed-body-part'], env);
    expect(run.code).toBe(0);
    const rle = JSON.parse(run.stdout) as AnalysisResult;
    const jpeg2000 = JSON.parse(await readFile(path.join(outDir, 'jpeg2000', 'analysis.json'), 'utf8')) as AnalysisResult;
    // Everything the detector and the decision produced; the UIDs, the time of analysis and the
    // descriptions quoted in flag messages (the files' SeriesDescriptions differ) differ by construction.
    const findings = (r: AnalysisResult) => ({
      views: r.views.map((v) => ({ view: v.view, imageSize: v.imageSize, boxes: v.boxes, score: v.score, positive: v.positive, laterality: v.laterality, domain: v.domain })),
      patient: r.patient,
      flags: r.flags.map((f) => f.code),
      operatingThreshold: r.operatingThreshold,
    });
    expect(rle.views.flatMap((v) => v.boxes).length).toBeGreaterThan(0);
    expect(findings(rle)).toEqual(findings(jpeg2000));
  });

  it.each([
    ['a CT study', () => studies.ct.study, 'not-radiograph', /CT/],
    ['a chest radiograph', () => studies.chest.study, 'not-knee', /CHEST/],
    ['a lower-leg radiograph labelled EXTREMITY', () => studies.explicitLE.study, 'not-knee', /BodyPartExamined EXTREMITY \(does not name the knee\)/],
    ['a study without a lateral view', () => apOnly.study, 'view-missing', /lateral view is missing/],
    ['a study the PACS does not hold', () => '1.2.826.0.1.999999.1', 'study-not-found', /not on DICOMweb/],
  ])('refuses %s with a reason and exit code 3', async (_, study, code, reason) => {
    const run = await runCli(['analyze', '--dicomweb', orthanc.dicomWebUrl, '--study', study(), '--json'], env);
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout) as { error: { code: string; reason: string } };
    expect(error.code).toBe(code);
    expect(error.reason).toMatch(reason);
    expect(run.stderr).toContain(code);
  });

  it('says the PACS refused our credentials, a set-up problem (exit 1) that retrying cannot fix', async () => {
    const run = await runCli(['analyze', '--dicomweb', orthanc.dicomWebUrl, '--study', studies.explicitLE.study], { ...env, KNEE_TUMOR_DICOMWEB_PASSWORD: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/pacs-unauthorized: .*refused our credentials \(HTTP 401\); check pacs.auth/);
  });

  it('says the PACS cannot be reached, with exit code 4 (retry later)', async () => {
    const run = await runCli(['analyze', '--dicomweb', 'http://127.0.0.1:9/dicom-web', '--study', studies.explicitLE.study], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/pacs-unreachable: QIDO-RS series search: cannot reach/);
  });
});
