/**
 * The method's conversion, pure: stored values → modality LUT (rescale or Modality LUT Sequence)
 * → the image's own VOI (window centre/width with its VOI LUT Function, else the VOI LUT
 * Sequence) → 8-bit → inverted where the image says its minimum is white (Presentation LUT Shape
 * INVERSE, or MONOCHROME1), so that bone is bright. No other contrast change.
 * The formulas are those of PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT, SIGMOID) and C.11.6.1.2.
 */
import { KneeTumorError } from '../errors';
import type { Gray8Image } from '../imaging/gray8';
import type { StoredPixels } from './codecs';
import type { ImageHeader, LookupTable } from './image-header';

const OUT_MIN = 0;
const OUT_MAX = 255;

/** Stored value with the unused high bits masked (unsigned) or sign-extended (signed). */
function storedValueNormaliser(header: ImageHeader): (raw: number) => number {
  const bits = header.bitsStored;
  if (bits >= 32) return (raw) => raw;
  const mask = 2 ** bits - 1;
  if (header.pixelRepresentation === 0) return (raw) => (raw >>> 0) & mask;
  const signBit = 2 ** (bits - 1);
  return (raw) => {
    const value = raw & mask;
    return value >= signBit ? value - 2 ** bits : value;
  };
}

function lookup(lut: LookupTable, value: number): number {
  const index = Math.min(Math.max(Math.round(value) - lut.firstMapped, 0), lut.data.length - 1);
  return lut.data[index] ?? 0;
}

export function modalityValue(header: ImageHeader, stored: number): number {
  return header.modalityLut ? lookup(header.modalityLut, stored) : stored * header.rescaleSlope + header.rescaleIntercept;
}

/** Maps a modality value to 0..255 through the window, per the VOI LUT Function. */
export function windowValue(value: number, center: number, width: number, fn: ImageHeader['voiLutFunction']): number {
  const range = OUT_MAX - OUT_MIN;
  if (fn === 'SIGMOID') return range / (1 + Math.exp((-4 * (value - center)) / width)) + OUT_MIN;
  if (fn === 'LINEAR_EXACT') {
    if (value <= center - width / 2) return OUT_MIN;
    if (value > center + width / 2) return OUT_MAX;
    return ((value - center) / width + 0.5) * range + OUT_MIN;
  }
  if (value <= center - 0.5 - (width - 1) / 2) return OUT_MIN;
  if (value > center - 0.5 + (width - 1) / 2) return OUT_MAX;
  return ((value - (center - 0.5)) / (width - 1) + 0.5) * range + OUT_MIN;
}

function voiLutValue(lut: LookupTable, value: number): number {
  return (lookup(lut, value) / (2 ** lut.bitsPerEntry - 1)) * (OUT_MAX - OUT_MIN) + OUT_MIN;
}

/** Which VOI the image defines, in the order the method uses: its window, else its VOI LUT. */
export type VoiChoice =
  | { kind: 'window'; center: number; width: number; fn: ImageHeader['voiLutFunction'] }
  | { kind: 'lut'; lut: LookupTable }
  | { kind: 'range'; min: number; max: number };

export function chooseVoi(header: ImageHeader, modalityRange: { min: number; max: number }): VoiChoice {
  const window = header.windows[0];
  // LINEAR needs a width of at least 1; the other functions any positive width.
  const usable = window && (header.voiLutFunction === 'LINEAR' ? window.width >= 1 : window.width > 0);
  if (window && usable) return { kind: 'window', center: window.center, width: window.width, fn: header.voiLutFunction };
  if (header.voiLut) return { kind: 'lut', lut: header.voiLut };
  // No VOI in the image: the full range of its modality values, as viewers do.
  return { kind: 'range', ...modalityRange };
}

function voiValue(voi: VoiChoice, value: number): number {
  switch (voi.kind) {
    case 'window':
      return windowValue(value, voi.center, voi.width, voi.fn);
    case 'lut':
      return voiLutValue(voi.lut, value);
    case 'range':
      return voi.max > voi.min ? ((value - voi.min) / (voi.max - voi.min)) * (OUT_MAX - OUT_MIN) + OUT_MIN : OUT_MIN;
  }
}

/**
 * Whether the output is inverted (P-Value = maximum - value, PS3.3 C.11.6.1.2). The image's
 * Presentation LUT Shape, when it states one, decides: it is the last step of the grayscale
 * pipeline, and MONOCHROME1's inversion is that same step (C.7.6.1: INVERSE is the shape of
 * MONOCHROME1 images, IDENTITY that of MONOCHROME2), never a second one. Without it,
 * MONOCHROME1 inverts. DCMTK decides the same way.
 */
export function invertsOutput(header: Pick<ImageHeader, 'presentationLutShape' | 'photometricInterpretation'>): boolean {
  if (header.presentationLutShape) return header.presentationLutShape === 'INVERSE';
  return header.photometricInterpretation === 'MONOCHROME1';
}

/**
 * Applies the whole conversion. The stored values of a radiograph span at most 16 bits, so one
 * table over their actual range makes it exact and fast.
 */
export function toGray8(header: ImageHeader, stored: StoredPixels): Gray8Image {
  const pixels = header.rows * header.columns;
  if (stored.length < pixels) {
    throw new KneeTumorError('pixel-data-invalid', `decoded ${stored.length} pixels, the header says ${header.columns} x ${header.rows}`);
  }
  const normalise = storedValueNormaliser(header);
  let minStored = Infinity;
  let maxStored = -Infinity;
  for (let i = 0; i < pixels; i++) {
    const v = normalise(stored[i] ?? 0);
    if (v < minStored) minStored = v;
    if (v > maxStored) maxStored = v;
  }
  const span = maxStored - minStored + 1;
  if (span > 2 ** 24) throw new KneeTumorError('pixel-data-invalid', `stored values span ${span} levels; not a radiograph`);
  const modality = new Float64Array(span);
  let minModality = Infinity;
  let maxModality = -Infinity;
  for (let i = 0; i < span; i++) {
    const value = modalityValue(header, minStored + i);
    modality[i] = value;
    if (value < minModality) minModality = value;
    if (value > maxModality) maxModality = value;
  }
  const voi = chooseVoi(header, { min: minModality, max: maxModality });
  const invert = invertsOutput(header);
  const table = new Uint8Array(span);
  for (let i = 0; i < span; i++) {
    const y = Math.round(voiValue(voi, modality[i] ?? 0));
    const clamped = Math.min(Math.max(y, OUT_MIN), OUT_MAX);
    table[i] = invert ? OUT_MAX - clamped : clamped;
  }
  const data = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) data[i] = table[normalise(stored[i] ?? 0) - minStored] ?? 0;
  return { width: header.columns, height: header.rows, data };
}
