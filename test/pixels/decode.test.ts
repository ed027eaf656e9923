import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readPart10Image } from '../../server/src/dicom/part10';
import { decodeFrame } from '../../server/src/dicom/codecs';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { KneeTumorError } from '../../server/src/errors';
import { SHARED_DICOM } from '../support/shared-data';

const load = (name: string) => new Uint8Array(readFileSync(path.join(SHARED_DICOM, name)));

describe('decoding the transfer syntaxes of the RG3 radiograph', () => {
  const lossless = ['RG3_J2KR.dcm', 'RG3_jpegLosslessSV1.dcm', 'RG3_rle.dcm'];

  it('gives identical stored pixels for JPEG 2000 lossless, JPEG Lossless SV1 and RLE', async () => {
    const decoded = await Promise.all(
      lossless.map(async (name) => {
        const { header, encodedFrame } = readPart10Image(load(name));
        return { name, header, stored: await decodeFrame(header, encodedFrame) };
      }),
    );
    const [reference, ...others] = decoded;
    expect(reference?.header.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.90');
    expect(reference?.stored.length).toBe(1760 * 1760);
    // A real image, not a constant: the 10-bit range is used.
    let min = Infinity;
    let max = -Infinity;
    for (const v of reference?.stored ?? []) [min, max] = [Math.min(min, v), Math.max(max, v)];
    expect(max - min).toBeGreaterThan(300);
    for (const other of others) {
      expect(other.stored.length).toBe(reference?.stored.length);
      expect(Buffer.from(other.stored.buffer, other.stored.byteOffset, other.stored.byteLength).equals(
        Buffer.from(reference!.stored.buffer, reference!.stored.byteOffset, reference!.stored.byteLength),
      )).toBe(true);
    }
  });

  it('converts each syntax to the same 8-bit image', async () => {
    const images = await Promise.all(lossless.map((name) => decodeForDetector(load(name))));
    for (const image of images) expect(Buffer.from(image.data).equals(Buffer.from(images[0]!.data))).toBe(true);
  });
});

describe('the 8-bit conversion', () => {
  it('shows bone bright and the air beside the leg dark on MONOCHROME1 input', async () => {
    const { width, height, data } = await decodeForDetector(load('RG3_J2KR.dcm'));
    // Blocks across the middle of the leg: the tibia is the brightest, the open field the darkest.
    const blockMeans: number[] = [];
    const y0 = Math.floor(height / 2);
    for (let x0 = 0; x0 + 40 <= width; x0 += 40) {
      let sum = 0;
      for (let y = y0; y < y0 + 40; y++) for (let x = x0; x < x0 + 40; x++) sum += data[y * width + x] ?? 0;
      blockMeans.push(sum / 1600);
    }
    const tibia = Math.max(...blockMeans.slice(Math.floor(blockMeans.length * 0.4), Math.ceil(blockMeans.length * 0.6)));
    const air = Math.min(...blockMeans.slice(Math.floor(blockMeans.length * 0.25), Math.floor(blockMeans.length * 0.4)));
    expect(tibia).toBeGreaterThan(140);
    expect(air).toBeLessThan(40);
  });

  it('refuses a CT slice with the reason', async () => {
    await expect(decodeForDetector(load('CT-MONO2-16-ankle.dcm'))).rejects.toMatchObject({
      code: 'not-radiograph',
      reason: expect.stringContaining('CT'),
    });
  });

  it('refuses a file that is not DICOM, and a truncated one', async () => {
    await expect(decodeForDetector(new Uint8Array(2000))).rejects.toMatchObject({ code: 'dicom-unreadable' });
    const full = load('RG3_512_explicitLE.dcm');
    const truncated = full.subarray(0, full.length - 100000);
    await expect(decodeForDetector(truncated)).rejects.toBeInstanceOf(KneeTumorError);
  });
});
