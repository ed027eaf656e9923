/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits
 * segment per byte plane (most significant byte first). No library for it exists in the
 * cornerstone codec set; the format is small enough to decode here.
 */
import { KneeTumorError } from '../errors';

function decodeSegment(input: Uint8Array, start: number, end: number, output: Uint8Array, plane: number, planes: number): void {
  let inPos = start;
  let outPos = plane;
  const limit = output.length;
  while (inPos < end && outPos < limit) {
    const control = (input[inPos++] ?? 0) << 24 >> 24;
    if (control >= 0) {
      for (let i = 0; i <= control && outPos < limit; i++) {
        output[outPos] = input[inPos++] ?? 0;
        outPos += planes;
      }
    } else if (control !== -128) {
      const value = input[inPos++] ?? 0;
      for (let i = 0; i < 1 - control && outPos < limit; i++) {
        output[outPos] = value;
        outPos += planes;
      }
    }
  }
  if (outPos < limit) throw new KneeTumorError('pixel-data-invalid', `RLE segment ${plane} ends early (truncated frame)`);
  // Segments are padded to even length (PS3.5 G.3.1): more left over means more rows were coded than the header has.
  if (end - inPos > 1) {
    throw new KneeTumorError('dicom-inconsistent', `RLE segment ${plane} holds ${end - inPos} bytes beyond the ${limit / planes} samples the header's Rows and Columns imply`);
  }
}

/** Decodes one RLE frame of `pixels` samples of `bytesPerSample` bytes, little endian out. */
export function decodeRle(frame: Uint8Array, pixels: number, bytesPerSample: number): Uint8Array {
  if (frame.length < 64) throw new KneeTumorError('pixel-data-invalid', 'RLE frame shorter than its 64-byte header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) {
    throw new KneeTumorError('dicom-inconsistent', `RLE frame has ${segments} segments, ${bytesPerSample} expected for one sample per pixel`);
  }
  for (let s = segments; s < 15; s++) {
    if (view.getUint32(4 + 4 * s, true) !== 0) throw new KneeTumorError('pixel-data-invalid', `RLE header lists an offset for segment ${s} of ${segments}`);
  }
  const output = new Uint8Array(pixels * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > end || end > frame.length) throw new KneeTumorError('pixel-data-invalid', `RLE segment ${s} offsets are invalid`);
    // Segment 0 holds the most significant bytes; little-endian output puts them last.
    decodeSegment(frame, start, end, output, bytesPerSample - 1 - s, bytesPerSample);
  }
  return output;
}
