/**
 * From attenuation to stored pixel values, as a CR plate or DR panel would record them: tube
 * heel effect, scatter glow, quantum noise, detector blur, collimator shutters, then a log
 * (exposure-index-like) mapping into the device's bit depth, inverted for MONOCHROME1. The window
 * is chosen the way a console's auto-ranging does: from the histogram inside the collimated field.
 */
import type { Rng } from './random';
import { boxBlur } from './texture';

export interface DetectorSettings {
  bitsStored: number;
  photometric: 'MONOCHROME1' | 'MONOCHROME2';
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Relative quantum noise of an unattenuated pixel (lower = higher dose). */
  noise: number;
  /** Scatter-to-primary ratio and glow radius (mm). */
  scatter: number;
  scatterRadiusMm: number;
  /** Heel effect: relative intensity change across the image, along rows. */
  heel: number;
  /** Collimated field: insets (fraction of width/height) and tilt (radians). */
  collimation: { left: number; right: number; top: number; bottom: number; angle: number };
  /** Outside the field: unexposed plate (bright) or an electronic shutter mask (black). */
  outside: 'unexposed' | 'masked';
  /** Window placement: how far above air the dark end sits and how much headroom above bone. */
  windowFloor: number;
  windowHeadroom: number;
}

export interface DetectorImage {
  pixels: Uint16Array;
  /** Window in modality units (after rescale). */
  windowCenter: number;
  windowWidth: number;
}

/** Log-signal range mapped onto the stored range: air at about -0.3, lead and unexposed at about 7. */
const V_LOW = -1;
const V_HIGH = 8;
const V_UNEXPOSED = 7.2;
const GLOW_STEP = 8;

/** Scatter glow: the primary image averaged on an 8x coarser grid and blurred over radiusPx. */
function scatterGlow(intensity: Float32Array, width: number, height: number, radiusPx: number): { grid: Float32Array; sw: number; sh: number } {
  const sw = Math.ceil(width / GLOW_STEP);
  const sh = Math.ceil(height / GLOW_STEP);
  const grid = new Float32Array(sw * sh);
  for (let row = 0; row < height; row++) {
    const base = Math.floor(row / GLOW_STEP) * sw;
    for (let col = 0; col < width; col++) {
      const g = base + Math.floor(col / GLOW_STEP);
      grid[g] = grid[g]! + intensity[row * width + col]!;
    }
  }
  for (let i = 0; i < grid.length; i++) grid[i] = grid[i]! / (GLOW_STEP * GLOW_STEP);
  const r = Math.max(1, Math.round(radiusPx / GLOW_STEP / 2));
  boxBlur(grid, sw, sh, r);
  boxBlur(grid, sw, sh, r);
  return { grid, sw, sh };
}

/** [1 2 1] / 4 in both directions: the plate's light spread, which also correlates the noise. */
function detectorBlur(v: Float32Array, width: number, height: number): void {
  const line = new Float32Array(Math.max(width, height));
  for (let row = 0; row < height; row++) {
    const base = row * width;
    for (let c = 0; c < width; c++) line[c] = v[base + c]!;
    for (let c = 1; c < width - 1; c++) v[base + c] = (line[c - 1]! + 2 * line[c]! + line[c + 1]!) / 4;
  }
  for (let col = 0; col < width; col++) {
    for (let r = 0; r < height; r++) line[r] = v[r * width + col]!;
    for (let r = 1; r < height - 1; r++) v[r * width + col] = (line[r - 1]! + 2 * line[r]! + line[r + 1]!) / 4;
  }
}

/** The collimated field as a rotated rectangle (pixels), with a penumbra of about 1 mm. */
interface Field {
  cx: number;
  cy: number;
  hx: number;
  hy: number;
  cos: number;
  sin: number;
  penumbra: number;
}

function field(s: DetectorSettings, width: number, height: number, spacingMm: number): Field {
  const c = s.collimation;
  return {
    cx: width * (0.5 + (c.left - c.right) / 2),
    cy: height * (0.5 + (c.top - c.bottom) / 2),
    hx: (width * (1 - c.left - c.right)) / 2,
    hy: (height * (1 - c.top - c.bottom)) / 2,
    cos: Math.cos(c.angle),
    sin: Math.sin(c.angle),
    penumbra: 1 / spacingMm,
  };
}

/** 1 inside the field, 0 outside. */
function fieldWeight(f: Field, col: number, row: number): number {
  const dx = col - f.cx;
  const dy = row - f.cy;
  const d = Math.max(Math.abs(dx * f.cos + dy * f.sin) - f.hx, Math.abs(-dx * f.sin + dy * f.cos) - f.hy);
  return d <= -f.penumbra ? 1 : d >= f.penumbra ? 0 : 0.5 - d / (2 * f.penumbra);
}

/**
 * Standard normal deviates to draw pixel noise from by index: a table of 2^16 is far larger than
 * any visible pattern and saves three transcendental calls per pixel.
 */
const GAUSS_BITS = 16;
const GAUSS_SHIFT = 32 - GAUSS_BITS;

function gaussianTable(rng: Rng): Float32Array {
  const table = new Float32Array(1 << GAUSS_BITS);
  for (let i = 0; i < table.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const t = 2 * Math.PI * rng.next();
    table[i] = r * Math.cos(t);
    table[i + 1] = r * Math.sin(t);
  }
  return table;
}

function quantile(hist: Uint32Array, total: number, q: number, lo: number, step: number): number {
  let seen = 0;
  const target = q * total;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= target) return lo + (i + 0.5) * step;
  }
  return lo + hist.length * step;
}

/**
 * Records the attenuation image `a`; `exclude` flags pixels (the lead marker) that auto-ranging
 * ignores.
 */
export function expose(a: Float32Array, exclude: Uint8Array, width: number, height: number, spacingMm: number, s: DetectorSettings, rng: Rng): DetectorImage {
  const n = width * height;
  // one buffer: transmitted intensity first, then the log signal in place
  const v = new Float32Array(n);
  for (let row = 0; row < height; row++) {
    const heel = 1 + s.heel * (row / height - 0.5);
    for (let col = 0, k = row * width; col < width; col++, k++) v[k] = Math.exp(-a[k]!) * heel;
  }
  const { grid, sw, sh } = scatterGlow(v, width, height, s.scatterRadiusMm / spacingMm);
  const norm = 1 / (1 + s.scatter);
  const gaussians = gaussianTable(rng);
  for (let row = 0; row < height; row++) {
    const gy = Math.min(sh - 1.001, Math.max(0, (row + 0.5) / GLOW_STEP - 0.5));
    const j = Math.floor(gy);
    const ty = gy - j;
    for (let col = 0, k = row * width; col < width; col++, k++) {
      const gx = Math.min(sw - 1.001, Math.max(0, (col + 0.5) / GLOW_STEP - 0.5));
      const i = Math.floor(gx);
      const tx = gx - i;
      const g0 = j * sw + i;
      const top = grid[g0]! + (grid[g0 + 1]! - grid[g0]!) * tx;
      const bottom = grid[g0 + sw]! + (grid[g0 + sw + 1]! - grid[g0 + sw]!) * tx;
      const signal = (v[k]! + s.scatter * (top + (bottom - top) * ty)) * norm;
      const gauss = gaussians[rng.nextUint32() >>> GAUSS_SHIFT]!;
      const recorded = signal + s.noise * Math.sqrt(signal) * gauss;
      v[k] = -Math.log(recorded > 1e-4 ? recorded : 1e-4);
    }
  }
  detectorBlur(v, width, height);
  const shutter = field(s, width, height, spacingMm);
  const outside = s.outside === 'unexposed' ? V_UNEXPOSED : V_LOW;
  const bins = 2048;
  const step = (V_HIGH - V_LOW) / bins;
  const hist = new Uint32Array(bins);
  let counted = 0;
  for (let row = 0; row < height; row++) {
    for (let col = 0, k = row * width; col < width; col++, k++) {
      const f = fieldWeight(shutter, col, row);
      if (f < 1) v[k] = v[k]! * f + outside * (1 - f);
      else if (exclude[k] === 0 && (row & 3) === 0 && (col & 3) === 0) {
        hist[Math.min(bins - 1, Math.max(0, Math.floor((v[k]! - V_LOW) / step)))]! += 1;
        counted++;
      }
    }
  }
  const dark = quantile(hist, counted, 0.02, V_LOW, step);
  const bright = quantile(hist, counted, 0.998, V_LOW, step);
  const low = dark + s.windowFloor * (bright - dark);
  const high = bright + s.windowHeadroom * (bright - dark);
  const max = 2 ** s.bitsStored - 1;
  const gain = max / (V_HIGH - V_LOW);
  const pixels = new Uint16Array(n);
  const invert = s.photometric === 'MONOCHROME1';
  for (let k = 0; k < n; k++) {
    const q = Math.round((v[k]! - V_LOW) * gain);
    const clamped = q < 0 ? 0 : q > max ? max : q;
    pixels[k] = invert ? max - clamped : clamped;
  }
  const mid = ((low + high) / 2 - V_LOW) * gain;
  const storedCenter = invert ? max - mid : mid;
  const storedWidth = (high - low) * gain;
  return {
    pixels,
    windowCenter: Math.round((storedCenter * s.rescaleSlope + s.rescaleIntercept) * 10) / 10,
    windowWidth: Math.round(storedWidth * s.rescaleSlope * 10) / 10,
  };
}
