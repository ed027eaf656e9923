/**
 * Noise fields on the pixel grid: smooth value noise (soft-tissue mottle, tumor matrix clouds),
 * ridged noise whose zero crossings form the net of trabeculae, and the box blur of the
 * detector's scatter glow. Lattices are drawn from the seeded stream, so fields are reproducible.
 */
import type { Rng } from './random';

/**
 * Smooth value noise in [-1, 1] with lattice cells of cellX x cellY pixels, written into `out`
 * (or added times `gain` when `add` is set). Only rows y0..y1 and columns x0..x1 are touched.
 */
export function valueNoise(
  rng: Rng,
  out: Float32Array,
  width: number,
  rect: { x0: number; y0: number; x1: number; y1: number },
  cellX: number,
  cellY: number,
  gain = 1,
  add = false,
): void {
  const gw = Math.ceil((rect.x1 - rect.x0) / cellX) + 2;
  const gh = Math.ceil((rect.y1 - rect.y0) / cellY) + 2;
  const lattice = new Float32Array(gw * gh);
  for (let i = 0; i < lattice.length; i++) lattice[i] = rng.next() * 2 - 1;
  const offX = rng.next();
  const offY = rng.next();
  const columns = rect.x1 - rect.x0;
  const cellIndex = new Int32Array(columns);
  const cellWeight = new Float32Array(columns);
  for (let c = 0; c < columns; c++) {
    const g = c / cellX + offX;
    const i = Math.floor(g);
    const t = g - i;
    cellIndex[c] = i;
    cellWeight[c] = t * t * (3 - 2 * t);
  }
  for (let row = rect.y0; row < rect.y1; row++) {
    const g = (row - rect.y0) / cellY + offY;
    const j = Math.floor(g);
    const t = g - j;
    const wy = t * t * (3 - 2 * t);
    const r0 = j * gw;
    const r1 = r0 + gw;
    const base = row * width + rect.x0;
    for (let c = 0; c < columns; c++) {
      const i = cellIndex[c]!;
      const wx = cellWeight[c]!;
      const top = lattice[r0 + i]! + (lattice[r0 + i + 1]! - lattice[r0 + i]!) * wx;
      const bottom = lattice[r1 + i]! + (lattice[r1 + i + 1]! - lattice[r1 + i]!) * wx;
      const v = (top + (bottom - top) * wy) * gain;
      out[base + c] = add ? out[base + c]! + v : v;
    }
  }
}

/**
 * Trabecular pattern in about [0, 1]: two octaves of ridged noise, stretched along the bone axis
 * (trabeculae run along the lines of stress), so thin bright struts enclose darker marrow spaces.
 * `strut` is the strut spacing in pixels.
 */
export function trabecularField(rng: Rng, width: number, height: number, rect: { x0: number; y0: number; x1: number; y1: number }, strut: number): Float32Array {
  const coarse = new Float32Array(width * height);
  const fine = new Float32Array(width * height);
  valueNoise(rng, coarse, width, rect, strut * 1.2, strut * 2.6);
  valueNoise(rng, fine, width, rect, strut * 0.65, strut * 0.8);
  for (let row = rect.y0; row < rect.y1; row++) {
    for (let k = row * width + rect.x0, end = row * width + rect.x1; k < end; k++) {
      const a = 1 - Math.abs(coarse[k]!);
      const b = 1 - Math.abs(fine[k]!);
      coarse[k] = 0.55 * a * a + 0.45 * b * b;
    }
  }
  return coarse;
}

/** Separable box blur of radius r (pixels) over the whole image, in place, via running sums. */
export function boxBlur(data: Float32Array, width: number, height: number, r: number): void {
  const line = new Float32Array(Math.max(width, height));
  const span = 2 * r + 1;
  for (let row = 0; row < height; row++) {
    const base = row * width;
    for (let c = 0; c < width; c++) line[c] = data[base + c]!;
    let sum = line[0]! * (r + 1);
    for (let c = 1; c <= r; c++) sum += line[Math.min(c, width - 1)]!;
    for (let c = 0; c < width; c++) {
      data[base + c] = sum / span;
      sum += line[Math.min(c + r + 1, width - 1)]! - line[Math.max(c - r, 0)]!;
    }
  }
  for (let col = 0; col < width; col++) {
    for (let r2 = 0; r2 < height; r2++) line[r2] = data[r2 * width + col]!;
    let sum = line[0]! * (r + 1);
    for (let k = 1; k <= r; k++) sum += line[Math.min(k, height - 1)]!;
    for (let k = 0; k < height; k++) {
      data[k * width + col] = sum / span;
      sum += line[Math.min(k + r + 1, height - 1)]! - line[Math.max(k - r, 0)]!;
    }
  }
}
