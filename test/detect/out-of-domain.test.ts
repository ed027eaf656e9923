/**
 * Out-of-domain detection of the shipped ensemble. The shared real radiographs (chest, hip, lower
 * leg) are no knees, so an analysis refuses them at knee confirmation; here their converted pixels
 * go straight to the detector, and every one is outside the model's validated domain. Fresh
 * phantoms (a seed no fold, no statistic and no threshold was made from) are inside it, and their
 * boxes are exactly those of the same folds run without the domain check (the manifest without
 * its domain block: an older model, "not checked").
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_MANIFEST } from '../../server/src/config';
import { KneeTumorError } from '../../server/src/errors';
import { loadManifest } from '../../server/src/model/manifest';
import { EnsembleDetector } from '../../server/src/pipeline/detect';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { freshPhantoms } from '../support/fresh-phantoms';
import { SHARED_DICOM } from '../support/shared-data';

const load = async (manifestPath: string) =>
  EnsembleDetector.load(await loadManifest(manifestPath), { executionProvider: 'cpu', cpuThreads: 1, warn: () => undefined });

let checked: EnsembleDetector;
let tmp: string;
beforeAll(async () => {
  checked = await load(DEFAULT_MANIFEST);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'domain-'));
});
afterAll(async () => {
  await checked.release();
  await rm(tmp, { recursive: true, force: true });
});

/** The shipped manifest without its domain block, its folds named by absolute path. */
async function manifestWithout(change: (manifest: Record<string, unknown>) => void): Promise<string> {
  const manifest = JSON.parse(await readFile(DEFAULT_MANIFEST, 'utf8')) as Record<string, unknown> & { folds: { file: string }[] };
  for (const fold of manifest.folds) fold.file = path.resolve(path.dirname(DEFAULT_MANIFEST), fold.file);
  change(manifest);
  const file = path.join(tmp, `manifest-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(manifest));
  return file;
}

it('the shipped model carries domain statistics for every fold', async () => {
  const { manifest, domain } = await loadManifest(DEFAULT_MANIFEST);
  expect(manifest.domain?.featuresOutput).toBe('features');
  expect(domain?.folds.size).toBe(manifest.folds.length);
  expect(domain?.threshold).toBe(manifest.domain?.threshold);
});

/** The real radiographs' distances as measure_domain.py (numpy) computed them when it wrote the statistics. */
async function pythonDistances(): Promise<Record<string, number>> {
  const { manifest } = await loadManifest(DEFAULT_MANIFEST);
  const file = path.resolve(path.dirname(DEFAULT_MANIFEST), manifest.domain?.statistics ?? '');
  return (JSON.parse(await readFile(file, 'utf8')) as { realRadiographDistances: Record<string, number> }).realRadiographDistances;
}

it.each(['RG1_J2KI.dcm', 'RG2_J2KR.dcm', 'RG3_J2KR.dcm', 'RG3_512_explicitLE.dcm'])(
  'the real radiograph %s is outside the validated domain, at the distance the statistics were made with',
  async (file) => {
    const image = await decodeForDetector(new Uint8Array(await readFile(path.join(SHARED_DICOM, file))));
    const [view] = await checked.detectViews([image]);
    expect(view?.domain?.outside).toBe(true);
    expect(view?.domain?.distance).toBeGreaterThan(view?.domain?.threshold ?? Infinity);
    // numpy on features rounded to 6 digits there, float64 on the float32 output here.
    const expected = (await pythonDistances())[file];
    expect(Math.abs((view?.domain?.distance ?? 0) / (expected ?? Number.NaN) - 1)).toBeLessThan(1e-3);
  },
  120000,
);

it('fresh phantoms are inside the domain, with the boxes the unchecked folds give', async () => {
  const unchecked = await load(await manifestWithout((m) => delete m.domain));
  try {
    for (const patient of [...freshPhantoms(true, 2), ...freshPhantoms(false, 2)]) {
      const images = await Promise.all([patient.ap, patient.lateral].map((bytes) => decodeForDetector(bytes)));
      const views = await checked.detectViews(images);
      const plain = await unchecked.detectViews(images);
      for (const [i, view] of views.entries()) {
        expect(view.domain?.outside).toBe(false);
        expect(view.domain?.distance).toBeLessThanOrEqual(view.domain?.threshold ?? 0);
        expect(plain[i]?.domain).toBeUndefined();
        expect(view.boxes).toEqual(plain[i]?.boxes);
      }
    }
  } finally {
    await unchecked.release();
  }
}, 300000);

it('refuses a manifest whose statistics file does not match its pin', async () => {
  const tampered = await manifestWithout((m) => {
    (m.domain as { statisticsSha256: string }).statisticsSha256 = '0'.repeat(64);
    (m.domain as { statistics: string }).statistics = path.resolve(path.dirname(DEFAULT_MANIFEST), (m.domain as { statistics: string }).statistics);
  });
  await expect(loadManifest(tampered)).rejects.toThrow(KneeTumorError);
  await expect(loadManifest(tampered)).rejects.toThrow(/domain statistics: .* has sha256 [0-9a-f]{64}, the manifest pins 0{64}/);
});
