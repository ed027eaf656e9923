/**
 * The soft-tissue envelope of thigh, knee and calf: attenuation (unitless, -ln of transmission)
 * through skin-fat and muscle with an elliptical cross-section per level, plus the fat pads that
 * outline the tendons on the lateral view. It also returns the skin outline, which the tumor's
 * soft-tissue mass and the marker placement use.
 */
import type { ViewKind } from './anatomy';
import type { Frame } from './frame';
import type { Rng } from './random';
import { MU_FAT, MU_MUSCLE } from './attenuation';

/** Control points along y: [y, anterior-or-lateral skin x, posterior-or-medial skin x, out-of-plane thickness]. */
type Profile = readonly (readonly [number, number, number, number])[];

const AP_PROFILE: Profile = [
  [-420, 88, -88, 150],
  [-200, 76, -74, 128],
  [-100, 64, -62, 108],
  [-40, 57, -57, 100],
  [0, 55, -55, 98],
  [40, 53, -52, 100],
  [110, 56, -55, 108],
  [200, 54, -52, 100],
  [420, 38, -36, 78],
];

const LATERAL_PROFILE: Profile = [
  [-420, 62, -96, 170],
  [-200, 54, -90, 150],
  [-100, 46, -76, 126],
  [-45, 47, -62, 112],
  [-20, 46, -58, 110],
  [10, 38, -60, 108],
  [40, 32, -72, 110],
  [110, 24, -86, 112],
  [200, 22, -80, 104],
  [420, 16, -52, 76],
];

/** Fat pads of the lateral view: Hoffa's, the prefemoral and the popliteal fat. [x, y, rx, ry, thickness] */
const LATERAL_FAT_PADS = [
  [22, 10, 9, 14, 34],
  [16, -62, 7, 24, 40],
  [-44, -18, 12, 32, 44],
] as const;

export interface SoftTissue {
  /** Per 1 mm level from LUT_START: skin positions and thickness, after the patient's habitus. */
  front: Float32Array;
  back: Float32Array;
  thickness: Float32Array;
  fat: number;
  pads: readonly (readonly [number, number, number, number, number])[];
}

const LUT_START = -420;
const LUT_SIZE = 841;

function catmullRom(points: Profile, column: 1 | 2 | 3, y: number): number {
  let i = 0;
  while (i < points.length - 2 && (points[i + 1] as readonly number[])[0]! < y) i++;
  const p1 = points[i] as readonly number[];
  const p2 = points[i + 1] as readonly number[];
  const p0 = (points[i - 1] ?? p1) as readonly number[];
  const p3 = (points[i + 2] ?? p2) as readonly number[];
  const t = Math.min(1, Math.max(0, (y - p1[0]!) / (p2[0]! - p1[0]!)));
  const [a, b, c, d] = [p0[column]!, p1[column]!, p2[column]!, p3[column]!];
  return 0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t * t + (-a + 3 * b - 3 * c + d) * t * t * t);
}

/** The patient's habitus (fat and muscle bulk) and size scale the reference profile. */
export function softTissue(view: ViewKind, scale: number, habitus: number, rng: Rng): SoftTissue {
  const profile = view === 'AP' ? AP_PROFILE : LATERAL_PROFILE;
  const front = new Float32Array(LUT_SIZE);
  const back = new Float32Array(LUT_SIZE);
  const thickness = new Float32Array(LUT_SIZE);
  const wobble = rng.uniform(0, Math.PI * 2);
  for (let i = 0; i < LUT_SIZE; i++) {
    const y = (LUT_START + i) / scale;
    const bulk = habitus * (1 + 0.025 * Math.sin(y / 37 + wobble));
    // bone-hugging skin (front of the tibia, the knee) grows less with habitus than the thigh
    const tight = view === 'LATERAL' && y > 20 ? 0.35 : 1;
    front[i] = catmullRom(profile, 1, y) * scale * (1 + (bulk - 1) * tight);
    back[i] = catmullRom(profile, 2, y) * scale * bulk;
    thickness[i] = catmullRom(profile, 3, y) * scale * bulk;
  }
  const fat = scale * rng.uniform(5, 12) * habitus * habitus;
  const pads = view === 'LATERAL' ? LATERAL_FAT_PADS.map(([x, y, rx, ry, t]) => [x * scale, y * scale, rx * scale, ry * scale, t * scale] as const) : [];
  return { front, back, thickness, fat, pads };
}

/** Attenuation of the envelope at a point of the knee frame. */
export function softTissueAt(tissue: SoftTissue, x: number, y: number): number {
  const fy = y - LUT_START;
  const i = fy <= 0 ? 0 : fy >= LUT_SIZE - 1 ? LUT_SIZE - 2 : Math.floor(fy);
  const t = Math.min(1, Math.max(0, fy - i));
  const front = tissue.front[i]! + (tissue.front[i + 1]! - tissue.front[i]!) * t;
  const back = tissue.back[i]! + (tissue.back[i + 1]! - tissue.back[i]!) * t;
  const depth = tissue.thickness[i]! + (tissue.thickness[i + 1]! - tissue.thickness[i]!) * t;
  const half = (front - back) / 2;
  const u = (x - (front + back) / 2) / half;
  if (u <= -1 || u >= 1) return 0;
  const total = depth * Math.sqrt(1 - u * u);
  const innerHalf = half - tissue.fat;
  const v = innerHalf > 0 ? (x - (front + back) / 2) / innerHalf : 2;
  const muscle = v > -1 && v < 1 ? (depth - 2 * tissue.fat) * Math.sqrt(1 - v * v) : 0;
  let a = MU_FAT * total + (MU_MUSCLE - MU_FAT) * muscle;
  for (const [px, py, rx, ry, thick] of tissue.pads) {
    const du = (x - px) / rx;
    const dv = (y - py) / ry;
    const r2 = du * du + dv * dv;
    if (r2 < 1) a -= (MU_MUSCLE - MU_FAT) * thick * Math.sqrt(1 - r2);
  }
  return a;
}

/** Skin positions (front/lateral, back/medial) at a level of the knee frame. */
export function skinAt(tissue: SoftTissue, y: number): { front: number; back: number } {
  const i = Math.min(LUT_SIZE - 1, Math.max(0, Math.round(y - LUT_START)));
  return { front: tissue.front[i]!, back: tissue.back[i]! };
}

/** The envelope varies slowly, so it is evaluated every GRID pixels and interpolated. */
const GRID = 2;

/**
 * Renders the envelope, with a faint low-frequency mottle (`mottle`, relative, on the coarse
 * grid: muscle and fat are not homogeneous). On the lateral view the calf follows the flexed
 * tibia: below the knee the tibia frame is used, blended with the view frame over 60 mm so the
 * skin bends without a kink.
 */
export function renderSoftTissue(tissue: SoftTissue, view: Frame, tibia: Frame, width: number, height: number, out: Float32Array, mottle: (gridWidth: number, gridHeight: number, cell: number) => Float32Array): void {
  const sameFrames = view.ax === tibia.ax && view.bx === tibia.bx && view.cx === tibia.cx && view.ay === tibia.ay && view.by === tibia.by && view.cy === tibia.cy;
  const gw = Math.ceil(width / GRID) + 1;
  const gh = Math.ceil(height / GRID) + 1;
  const grid = mottle(gw, gh, GRID);
  for (let gy = 0; gy < gh; gy++) {
    const row = gy * GRID;
    for (let gx = 0; gx < gw; gx++) {
      const col = gx * GRID;
      const x = view.ax * col + view.bx * row + view.cx;
      const y = view.ay * col + view.by * row + view.cy;
      let a = softTissueAt(tissue, x, y);
      if (!sameFrames && y > -30) {
        const xt = tibia.ax * col + tibia.bx * row + tibia.cx;
        const yt = tibia.ay * col + tibia.by * row + tibia.cy;
        const w = y >= 30 ? 1 : (y + 30) / 60;
        a += (softTissueAt(tissue, xt, yt) - a) * w * w * (3 - 2 * w);
      }
      const g = gy * gw + gx;
      grid[g] = a * (1 + grid[g]!);
    }
  }
  for (let row = 0; row < height; row++) {
    const gy = Math.floor(row / GRID);
    const ty = (row - gy * GRID) / GRID;
    for (let col = 0; col < width; col++) {
      const gx = Math.floor(col / GRID);
      const tx = (col - gx * GRID) / GRID;
      const g = gy * gw + gx;
      const top = grid[g]! + (grid[g + 1]! - grid[g]!) * tx;
      const bottom = grid[g + gw]! + (grid[g + gw + 1]! - grid[g + gw]!) * tx;
      out[row * width + col] = top + (bottom - top) * ty;
    }
  }
}
