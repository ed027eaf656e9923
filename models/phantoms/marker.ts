/**
 * The lead side marker (L or R) that a technologist lays on the cassette. Letters are strokes in a
 * unit box (height 1, y down) drawn as anti-aliased capsules; lead is nearly opaque, so the letter
 * shows white on the presentation, sometimes inside a faint plastic holder and sometimes mirrored
 * (laid face down), as on real films.
 */
type Stroke = readonly [number, number, number, number];

const GLYPHS: Record<'L' | 'R', readonly Stroke[]> = {
  L: [
    [0, 0, 0, 1],
    [0, 1, 0.55, 1],
  ],
  R: [
    [0, 0, 0, 1],
    [0, 0, 0.34, 0],
    [0.34, 0, 0.5, 0.06],
    [0.5, 0.06, 0.57, 0.19],
    [0.57, 0.19, 0.57, 0.31],
    [0.57, 0.31, 0.5, 0.44],
    [0.5, 0.44, 0.34, 0.5],
    [0.34, 0.5, 0, 0.5],
    [0.28, 0.5, 0.62, 1],
  ],
};

const LEAD = 4.5;
const PLASTIC = 0.06;

export interface MarkerPlacement {
  letter: 'L' | 'R';
  /** Top-left corner of the letter box, pixels. */
  col: number;
  row: number;
  /** Letter height, pixels. */
  size: number;
  angle: number;
  mirrored: boolean;
  holder: boolean;
}

function segmentDistance(px: number, py: number, s: Stroke): number {
  const [x0, y0, x1, y1] = s;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - x0 - t * dx, py - y0 - t * dy);
}

/** Pixel box the marker covers (letter and holder), for placing it clear of the limb. */
export function markerExtent(m: MarkerPlacement): { x0: number; y0: number; x1: number; y1: number } {
  const pad = m.size * 0.5;
  return { x0: m.col - pad, y0: m.row - pad, x1: m.col + m.size * 0.7 + pad, y1: m.row + m.size + pad };
}

/** Adds the marker's attenuation to `a` and flags its pixels in `mask`. */
export function renderMarker(m: MarkerPlacement, a: Float32Array, mask: Uint8Array, width: number, height: number): void {
  const strokes = GLYPHS[m.letter];
  const half = 0.085;
  const cos = Math.cos(m.angle);
  const sin = Math.sin(m.angle);
  const e = markerExtent(m);
  const pixel = 1 / m.size;
  for (let row = Math.max(0, Math.floor(e.y0)); row < Math.min(height, Math.ceil(e.y1)); row++) {
    for (let col = Math.max(0, Math.floor(e.x0)); col < Math.min(width, Math.ceil(e.x1)); col++) {
      const dx = (col - m.col) / m.size;
      const dy = (row - m.row) / m.size;
      let u = cos * dx + sin * dy;
      const v = -sin * dx + cos * dy;
      if (m.mirrored) u = 0.6 - u;
      let d = Infinity;
      for (const s of strokes) d = Math.min(d, segmentDistance(u, v, s));
      const cover = Math.max(0, Math.min(1, (half - d) / pixel + 0.5));
      const inHolder = m.holder && u > -0.25 && u < 0.85 && v > -0.25 && v < 1.25 ? PLASTIC : 0;
      const k = row * width + col;
      if (cover > 0 || inHolder > 0) {
        a[k] = a[k]! + cover * LEAD + inHolder;
        mask[k] = 1;
      }
    }
  }
}
