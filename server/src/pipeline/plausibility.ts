/**
 * The image plausibility gate before detection: a frame that decoded completely may still be no
 * radiograph, a blank (Rescale Slope 0, an empty detector read-out) or rows that a damaged stream
 * left identical. The detector would score it anyway (a blank scored 0.395, positive), so it is
 * refused with what was measured. Thresholds are set far from every genuine image measured: the
 * shared real radiographs, the phantoms and the test fixtures (see README, input integrity).
 */
import { KneeTumorError } from '../errors';
import type { Gray8Image } from '../imaging/gray8';

export interface PlausibilityMeasures {
  /** Standard deviation of the 8-bit values. */
  stdDev: number;
  /** Share of the pixels holding the most common value. */
  modeShare: number;
  /** The longest run of consecutive rows identical to each other, first and last row (0-based). */
  identicalRun: { first: number; last: number };
}

/** Below this spread of gray levels (of 255) an image shows nothing; real radiographs measure 40 and more. */
export const MIN_STD_DEV = 2;
/** Above this share of one gray level the image is a flat field with specks, not anatomy. */
export const MAX_MODE_SHARE = 0.98;
/**
 * A run of identical rows covering this share of the height is what a truncated or damaged frame
 * leaves. Genuine images measured at most 6% (phantom background); an electronic shutter burned
 * into the pixels of a tightly collimated knee can blank about a quarter on one side, so the line
 * is drawn above that. Shorter truncations are the codecs' completeness checks' to catch.
 */
export const MAX_IDENTICAL_ROW_SHARE = 0.35;

function rowsEqual(data: Uint8Array, width: number, a: number, b: number): boolean {
  const rowA = a * width;
  const rowB = b * width;
  for (let x = 0; x < width; x++) if (data[rowA + x] !== data[rowB + x]) return false;
  return true;
}

export function measurePlausibility(image: Gray8Image): PlausibilityMeasures {
  const { width, height, data } = image;
  const histogram = new Float64Array(256);
  for (let i = 0; i < data.length; i++) histogram[data[i] as number]! += 1;
  let mean = 0;
  let mode = 0;
  for (let v = 0; v < 256; v++) {
    mean += v * (histogram[v] as number);
    if ((histogram[v] as number) > (histogram[mode] as number)) mode = v;
  }
  mean /= data.length;
  let variance = 0;
  for (let v = 0; v < 256; v++) variance += (histogram[v] as number) * (v - mean) ** 2;
  let best = { first: 0, last: 0 };
  let first = 0;
  for (let y = 1; y <= height; y++) {
    if (y < height && rowsEqual(data, width, y, y - 1)) continue;
    if (y - 1 - first > best.last - best.first) best = { first, last: y - 1 };
    first = y;
  }
  return { stdDev: Math.sqrt(variance / data.length), modeShare: (histogram[mode] as number) / data.length, identicalRun: best };
}

/** Refuses, as image-implausible with the measured reason, an image the detector must not see. */
export function assertPlausible(image: Gray8Image): void {
  const m = measurePlausibility(image);
  if (m.stdDev < MIN_STD_DEV) {
    throw new KneeTumorError('image-implausible', `the image is blank: its gray levels vary by ${m.stdDev.toFixed(2)} (standard deviation, of 255; a radiograph shows far more)`);
  }
  if (m.modeShare > MAX_MODE_SHARE) {
    throw new KneeTumorError('image-implausible', `the image is nearly constant: ${(m.modeShare * 100).toFixed(1)}% of its pixels have one gray level`);
  }
  const runRows = m.identicalRun.last - m.identicalRun.first + 1;
  if (runRows > 1 && runRows / image.height >= MAX_IDENTICAL_ROW_SHARE) {
    throw new KneeTumorError(
      'image-implausible',
      `rows ${m.identicalRun.first}-${m.identicalRun.last} (${Math.round((runRows / image.height) * 100)}% of ${image.height}) are identical, as a truncated or damaged frame leaves them`,
    );
  }
}
