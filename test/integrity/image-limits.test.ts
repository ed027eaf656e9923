/**
 * A site's own analysis.imageLimits are the ones applied: in process, and by `convert` reading
 * them from KNEE_TUMOR_CONFIG (needs `npx tsc -p tsconfig.build.json`). Each refusal names the
 * limit and the value, and leaves no output file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageLimitsSchema } from '../../server/src/config';
import { EXIT } from '../../server/src/cli/output';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { runCli } from '../support/cli';
import { deflateExplicitLittleEndian } from '../support/deflate';
import { SHARED_DICOM } from '../support/shared-data';

const load = (name: string) => new Uint8Array(readFileSync(path.join(SHARED_DICOM, name)));

it('refuses a real radiograph above a configured maxSide or maxPixelsPerFrame, naming the limit', async () => {
  const rg3 = load('RG3_J2KR.dcm');
  await expect(decodeForDetector(rg3, ImageLimitsSchema.parse({ maxSide: 1024 }))).rejects.toMatchObject({
    code: 'image-too-large',
    reason: 'Rows is 1760, above the limit analysis.imageLimits.maxSide (1024)',
  });
  await expect(decodeForDetector(rg3, ImageLimitsSchema.parse({ maxPixelsPerFrame: 1_000_000 }))).rejects.toMatchObject({
    code: 'image-too-large',
    reason: 'a 1760 x 1760 frame has 3097600 pixels, above the limit analysis.imageLimits.maxPixelsPerFrame (1000000)',
  });
  expect((await decodeForDetector(rg3, ImageLimitsSchema.parse({ maxSide: 1760, maxPixelsPerFrame: 1760 * 1760 }))).width).toBe(1760);
});

it('stops inflating a deflated file past a configured maxInflatedBytes', async () => {
  const deflated = deflateExplicitLittleEndian(load('RG3_512_explicitLE.dcm'));
  await expect(decodeForDetector(deflated, ImageLimitsSchema.parse({ maxInflatedBytes: 100_000 }))).rejects.toMatchObject({
    code: 'image-too-large',
    reason: expect.stringMatching(/^the deflated data set inflates to more than the limit analysis\.imageLimits\.maxInflatedBytes \(100000 bytes\) from \d+ bytes$/),
  });
  expect((await decodeForDetector(deflated, ImageLimitsSchema.parse({ maxInflatedBytes: 600_000 }))).width).toBe(512);
});

it('convert applies the limits of the configuration file: exit 3, the limit named, no PNG', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'image-limits-'));
  try {
    const config = path.join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ analysis: { imageLimits: { maxSide: 1024 } } }));
    const out = path.join(dir, 'rg3.png');
    const refused = await runCli(['convert', path.join(SHARED_DICOM, 'RG3_J2KR.dcm'), out], { KNEE_TUMOR_CONFIG: config });
    expect(refused).toMatchObject({ code: EXIT.refused, stderr: 'knee-tumor: image-too-large: Rows is 1760, above the limit analysis.imageLimits.maxSide (1024)\n' });
    expect(existsSync(out)).toBe(false);
    const converted = await runCli(['convert', path.join(SHARED_DICOM, 'RG3_J2KR.dcm'), out]);
    expect(converted.code).toBe(EXIT.ok);
    expect(existsSync(out)).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
