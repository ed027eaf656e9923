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
  // CR and DX images have no multi-frame module (PS3.3 A.2, A.26): analysing one of the frames would ignore the others.
  if (header.numberOfFrames > 1) throw inconsistent(`Number of Frames is ${header.numberOfFrames}; a CR or DX radiograph has one frame`);
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
 * Native pixel data must hold exactly the frame the header implies, plus at most the one byte
 * that pads an odd length to even (PS3.5 7.1.1): more or fewer means the header is wrong.
 */
export function checkNativeLength(header: ImageHeader, length: number): void {
  const expected = nativeFrameBytes(header);
  if (length !== expected && !(expected % 2 === 1 && length === expected + 1)) {
    throw inconsistent(`the pixel data holds ${length} bytes, but a frame of ${header.columns} x ${header.rows} at ${header.bitsAllocated} bits needs ${expected}`);
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

/**
 * Thresholds of the Pixel Representation check, measured on every genuine image we have (README,
 * Input integrity): in their stated representation at most 0.0001% of neighbour pairs jump by
 * more than half the range, in the other one 0.13% to 1.1% (or none, when no value crosses it).
 */
const WRAP_FRACTION = 1e-4;
const WRAP_RATIO = 10;

/**
 * The values must be in the representation the header states. Read in the wrong one, they wrap at
 * the sign bit: where the image crosses half its range smoothly, neighbours jump by about
 * 2^Bits Stored. Of two neighbours on either side of that line, exactly one representation sees
 * them more than half the range apart, so counting such jumps in both says which one the data is in.
 */
export function checkPixelRepresentation(header: ImageHeader, stored: ArrayLike<number>): void {
  const mask = 2 ** header.bitsStored - 1;
  const half = 2 ** (header.bitsStored - 1);
  let unsignedJumps = 0;
  let signedJumps = 0;
  for (let y = 0; y < header.rows; y++) {
    let left = (stored[y * header.columns] as number) & mask;
    for (let x = 1; x < header.columns; x++) {
      const value = (stored[y * header.columns + x] as number) & mask;
      if (left >= half !== value >= half) {
        const difference = Math.abs(value - left);
        if (difference > half) unsignedJumps++;
        else if (difference < half) signedJumps++;
      }
      left = value;
    }
  }
  const signed = header.pixelRepresentation === 1;
  const [stated, other] = signed ? [signedJumps, unsignedJumps] : [unsignedJumps, signedJumps];
  const pairs = header.rows * (header.columns - 1);
  if (stated >= WRAP_FRACTION * pairs && stated > WRAP_RATIO * other) {
    throw inconsistent(
      `Pixel Representation says ${signed ? 'signed' : 'unsigned'}, but ${stated} neighbouring pixels (${((100 * stated) / pairs).toFixed(3)}%) jump by more than half the ${header.bitsStored}-bit range, ${other} when read as ${signed ? 'unsigned' : 'signed'}: the values wrap at the sign bit, the data is ${signed ? 'unsigned' : 'signed'}`,
    );
  }
}
