/**
 * Integrity checks around decoding: the header must agree with itself and stay within the
 * resource limits before any pixel buffer is allocated, and what a codec returns must be exactly
 * the frame the header describes. A damaged or forged image is refused here, never analysed.
 */
import { ImageLimitsSchema, type ImageLimits } from '../config';
import { KneeTumorError } from '../errors';
import type { ImageHeader } from './image-header';

/** The configuration's defaults, for callers (tests, tools) that load no configuration. */
export const DEFAULT_IMAGE_LIMITS: ImageLimits = ImageLimitsSchema.parse({});

function inconsistent(reason: string): KneeTumorError {
  return new KneeTumorError('dicom-inconsistent', reason);
}

/** Resource limits, from the header alone: they bound every allocation that follows. */
function checkLimits(header: ImageHeader, limits: ImageLimits): void {
  for (const [name, value] of [['Rows', header.rows], ['Columns', header.columns]] as const) {
    if (value > limits.maxSide) throw new KneeTumorError('image-too-large', `${name} is ${value}, above the limit analysis.imageLimits.maxSide (${limits.maxSide})`);
  }
  const pixels = header.rows * header.columns;
  if (pixels > limits.maxPixelsPerFrame) {
    throw new KneeTumorError(
      'image-too-large',
      `a ${header.columns} x ${header.rows} frame has ${pixels} pixels, above the limit analysis.imageLimits.maxPixelsPerFrame (${limits.maxPixelsPerFrame})`,
    );
  }
  if (header.numberOfFrames > limits.maxFrames) {
    throw new KneeTumorError('image-too-large', `Number of Frames is ${header.numberOfFrames}, above the limit analysis.imageLimits.maxFrames (${limits.maxFrames})`);
  }
}

/** The image pixel attributes of a grayscale radiograph must agree with each other (PS3.3 C.7.6.3). */
export function checkImageHeader(header: ImageHeader, limits: ImageLimits): void {
  if (header.rows < 1 || header.columns < 1) throw inconsistent(`the header says ${header.columns} x ${header.rows} pixels; an image has at least one row and column`);
  if (!Number.isInteger(header.numberOfFrames) || header.numberOfFrames < 1) throw inconsistent(`Number of Frames is ${header.numberOfFrames}; an image has at least one`);
  checkLimits(header, limits);
  if (header.samplesPerPixel !== 1) throw inconsistent(`Samples per Pixel is ${header.samplesPerPixel}; a grayscale radiograph has 1`);
  if (header.bitsAllocated !== 8 && header.bitsAllocated !== 16) throw inconsistent(`Bits Allocated is ${header.bitsAllocated}; a radiograph has 8 or 16`);
  if (header.bitsStored < 1 || header.bitsStored > header.bitsAllocated) {
    throw inconsistent(`Bits Stored is ${header.bitsStored}; it must be from 1 to Bits Allocated (${header.bitsAllocated})`);
  }
  if (header.highBit !== header.bitsStored - 1) throw inconsistent(`High Bit is ${header.highBit}; with Bits Stored ${header.bitsStored} it must be ${header.bitsStored - 1}`);
}

/** Bytes of one native frame the header implies. */
export function nativeFrameBytes(header: ImageHeader): number {
  return header.rows * header.columns * header.samplesPerPixel * (header.bitsAllocated / 8);
}

/**
 * Native pixel data must hold exactly the frames the header implies, plus at most the one byte
 * that pads an odd length to even (PS3.5 7.1.1): more or fewer means the header is wrong.
 */
export function checkNativeLength(header: ImageHeader, length: number): void {
  const expected = nativeFrameBytes(header) * header.numberOfFrames;
  if (length !== expected && !(expected % 2 === 1 && length === expected + 1)) {
    throw inconsistent(
      `the pixel data holds ${length} bytes, but ${header.numberOfFrames} frame(s) of ${header.columns} x ${header.rows} at ${header.bitsAllocated} bits need ${expected}`,
    );
  }
}

/** A codec's frame must have the header's dimensions, one component, and samples that fit Bits Allocated. */
export function checkDecodedFrame(header: ImageHeader, decoded: { width: number; height: number; components: number; precision: number }, codec: string): void {
  if (decoded.width !== header.columns || decoded.height !== header.rows || decoded.components !== 1) {
    throw inconsistent(`the ${codec} stream is ${decoded.width} x ${decoded.height} x ${decoded.components}, the header says ${header.columns} x ${header.rows} x 1`);
  }
  if (decoded.precision < 1 || decoded.precision > header.bitsAllocated) {
    throw inconsistent(`the ${codec} stream has ${decoded.precision}-bit samples, the header says Bits Allocated ${header.bitsAllocated}, Bits Stored ${header.bitsStored}`);
  }
}

/**
 * Every decoded value must fit Bits Stored: bits above High Bit set in an unsigned image (or
 * neither all clear nor all set, the sign extension, in a signed one) mean the header's precision
 * is not the data's (a wrong Bits Stored, 16-bit data read as 8), and masking would hide it.
 */
export function checkStoredRange(header: ImageHeader, stored: ArrayLike<number>): void {
  const pixels = header.rows * header.columns;
  if (stored.length !== pixels) throw inconsistent(`decoded ${stored.length} pixels, the header says ${header.columns} x ${header.rows} (${pixels})`);
  const unused = header.bitsAllocated - header.bitsStored;
  if (unused <= 0) return;
  const allocatedMask = 2 ** header.bitsAllocated - 1;
  const allSet = 2 ** unused - 1;
  const signed = header.pixelRepresentation === 1;
  let outside = 0;
  let first = 0;
  for (let i = 0; i < pixels; i++) {
    const high = ((stored[i] as number) & allocatedMask) >>> header.bitsStored;
    if (high !== 0 && !(signed && high === allSet)) {
      if (outside === 0) first = stored[i] as number;
      outside++;
    }
  }
  if (outside > 0) {
    throw inconsistent(`${outside} decoded values (e.g. ${first}) use bits above High Bit ${header.highBit}: the data is not ${header.bitsStored}-bit as Bits Stored says`);
  }
}
