import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parsePart10, readPart10Image } from '../../server/src/dicom/part10';
import { TAG } from '../../server/src/dicom/tags';
import { decodeFrame } from '../../server/src/dicom/codecs';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { SHARED_DICOM } from '../support/shared-data';
import { encodeJpegBaseline, encodeJpegLs } from '../support/codec-encoders';
import { deflateExplicitLittleEndian } from '../support/deflate';
import type { ImageHeader } from '../../server/src/dicom/image-header';

const load = (name: string) => new Uint8Array(readFileSync(path.join(SHARED_DICOM, name)));

async function rg3Stored(): Promise<{ header: ImageHeader; stored: Uint16Array }> {
  const { header, encodedFrame } = readPart10Image(load('RG3_J2KR.dcm'));
  return { header, stored: (await decodeFrame(header, encodedFrame)) as Uint16Array };
}

function bytesOf(values: Uint16Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

describe('JPEG-LS', () => {
  it('decodes a lossless JPEG-LS stream of RG3 to the identical 10-bit pixels', async () => {
    const { header, stored } = await rg3Stored();
    const frame = { width: header.columns, height: header.rows, bitsPerSample: 10, componentCount: 1, isSigned: false };
    const stream = await encodeJpegLs(bytesOf(stored), frame);
    expect(stream.length).toBeLessThan(stored.byteLength);
    const decoded = await decodeFrame({ ...header, transferSyntaxUid: '1.2.840.10008.1.2.4.80' }, stream);
    expect(Buffer.from(bytesOf(decoded as Uint16Array)).equals(Buffer.from(bytesOf(stored)))).toBe(true);
  });

  it('decodes near-lossless JPEG-LS within its error bound', async () => {
    const { header, stored } = await rg3Stored();
    const frame = { width: header.columns, height: header.rows, bitsPerSample: 10, componentCount: 1, isSigned: false };
    const decoded = await decodeFrame({ ...header, transferSyntaxUid: '1.2.840.10008.1.2.4.81' }, await encodeJpegLs(bytesOf(stored), frame, 2));
    let worst = 0;
    for (let i = 0; i < stored.length; i++) worst = Math.max(worst, Math.abs((decoded[i] ?? 0) - (stored[i] ?? 0)));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(2);
  });
});

describe('JPEG baseline', () => {
  it('decodes an 8-bit baseline stream close to the original pixels', async () => {
    const original = await decodeForDetector(load('RG3_512_explicitLE.dcm'));
    const frame = { width: original.width, height: original.height, bitsPerSample: 8, componentCount: 1, isSigned: false };
    const stream = await encodeJpegBaseline(original.data, frame, 95);
    const header: ImageHeader = {
      ...readPart10Image(load('RG3_512_explicitLE.dcm')).header,
      transferSyntaxUid: '1.2.840.10008.1.2.4.50',
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
    };
    const decoded = await decodeFrame(header, stream);
    let total = 0;
    for (let i = 0; i < original.data.length; i++) total += Math.abs((decoded[i] ?? 0) - (original.data[i] ?? 0));
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect(total / original.data.length).toBeLessThan(0.5);
  });
});

describe('Deflated Explicit VR Little Endian', () => {
  it('decodes to the same image as the uncompressed file', async () => {
    const explicit = load('RG3_512_explicitLE.dcm');
    const [plain, deflated] = await Promise.all([decodeForDetector(explicit), decodeForDetector(deflateExplicitLittleEndian(explicit))]);
    expect(readPart10Image(deflateExplicitLittleEndian(explicit)).header.transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99');
    expect(Buffer.from(deflated.data).equals(Buffer.from(plain.data))).toBe(true);
  });

  it('reads the data set after a preamble that is not zeros (a TIFF header), header alone or whole', async () => {
    const explicit = load('RG3_512_explicitLE.dcm');
    const withTiffPreamble = deflateExplicitLittleEndian(explicit);
    // A little-endian TIFF header whose first directory follows it, then bytes of that directory.
    withTiffPreamble.set([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x03, 0x00, 0x01, 0x00], 0);
    withTiffPreamble.fill(0xff, 16, 128);
    const [plain, deflated] = await Promise.all([decodeForDetector(explicit), decodeForDetector(withTiffPreamble)]);
    expect(Buffer.from(deflated.data).equals(Buffer.from(plain.data))).toBe(true);
    const header = parsePart10(withTiffPreamble, { headerOnly: true });
    expect(header.string(TAG.SOPInstanceUID)).toBe(parsePart10(explicit, { headerOnly: true }).string(TAG.SOPInstanceUID));
    expect(header.string(TAG.TransferSyntaxUID)).toBe('1.2.840.10008.1.2.1.99');
  });

  it('refuses a truncated deflated file with the reason', () => {
    const deflated = deflateExplicitLittleEndian(load('RG3_512_explicitLE.dcm'));
    expect(() => readPart10Image(deflated.subarray(0, deflated.length - 5000))).toThrow(
      expect.objectContaining({ code: 'dicom-unreadable', reason: expect.stringContaining('cannot be inflated') }),
    );
  });
});

describe('refusals', () => {
  it('refuses a transfer syntax without a decoder here, so that the server can be asked to transcode', async () => {
    const { header, encodedFrame } = readPart10Image(load('RG3_J2KR.dcm'));
    await expect(decodeFrame({ ...header, transferSyntaxUid: '1.2.840.10008.1.2.4.51' }, encodedFrame)).rejects.toMatchObject({
      code: 'unsupported-transfer-syntax',
    });
  });

  it('refuses a corrupt compressed stream with the codec reason', async () => {
    const { header, encodedFrame } = readPart10Image(load('RG3_J2KR.dcm'));
    const corrupt = encodedFrame.slice(0, 200);
    await expect(decodeFrame(header, corrupt)).rejects.toMatchObject({ code: 'pixel-data-invalid' });
  });

  it('refuses a colour image', async () => {
    const { header, encodedFrame } = readPart10Image(load('RG3_512_explicitLE.dcm'));
    await expect(decodeFrame({ ...header, samplesPerPixel: 3, photometricInterpretation: 'RGB' }, encodedFrame)).rejects.toMatchObject({
      code: 'pixel-data-invalid',
      reason: expect.stringContaining('not a grayscale radiograph'),
    });
  });
});
