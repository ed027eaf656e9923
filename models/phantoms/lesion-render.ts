/**
 * Draws a lesion into one view: it removes a share of the bone the X-rays cross inside it
 * (lysis), adds its sclerotic rim and septa, chondroid rings and arcs, tumor-bone clouds, the
 * soft-tissue mass and sunburst spicules, and returns the tight box around everything it changed.
 */
import type { PixelBox } from '../../server/src/domain/analysis';
import { type BoneShape, boneDistance, type ViewKind } from './anatomy';
import { type Frame, frameSpacing, pixelRect, toPixel } from './frame';
import type { Ellipsoid, Lesion } from './lesions';
import type { Rng } from './random';
import { valueNoise } from './texture';
import { MU_CORTEX, MU_MUSCLE } from './attenuation';

/** Attenuation maps of one view that a lesion reads and changes. */
export interface ViewMaps {
  width: number;
  height: number;
  /** Attenuation of trabecular bone and of cortex (already textured). */
  cancellous: Float32Array;
  cortical: Float32Array;
  /** Path length (mm) through bone. */
  depth: Float32Array;
  /** Total attenuation of the view; the lesion adds its change here. */
  total: Float32Array;
}

/** Changes smaller than this (attenuation units, about 1 % of transmitted light) are not part of the lesion's box. */
const VISIBLE = 0.012;
/** Mean attenuation (per mm) of tumor bone and of a spicule, about that of woven bone. */
const MU_OSTEOID = 0.03;
const SPICULE = 0.35;

interface Projected {
  u: number;
  y: number;
  ru: number;
  ry: number;
  rd: number;
}

function project(e: Ellipsoid, view: ViewKind): Projected {
  return view === 'AP' ? { u: e.x, y: e.y, ru: e.rx, ry: e.ry, rd: e.rz } : { u: e.z, y: e.y, ru: e.rz, ry: e.ry, rd: e.rx };
}

function drawCalcifications(lesion: Lesion, view: ViewKind, frame: Frame, delta: Float32Array, rect: { x0: number; y0: number; x1: number; y1: number }): void {
  const spacing = frameSpacing(frame);
  const rw = rect.x1 - rect.x0;
  const line = 0.35 / spacing;
  for (const c of lesion.calcifications) {
    const p = toPixel(frame, view === 'AP' ? c.x : c.z, c.y);
    const r = c.radius / spacing;
    const reach = r + 3 * line;
    for (let row = Math.max(rect.y0, Math.floor(p.row - reach)); row < Math.min(rect.y1, Math.ceil(p.row + reach)); row++) {
      for (let col = Math.max(rect.x0, Math.floor(p.col - reach)); col < Math.min(rect.x1, Math.ceil(p.col + reach)); col++) {
        const dx = col - p.col;
        const dy = row - p.row;
        const dist = Math.hypot(dx, dy);
        let v: number;
        if (c.ring) {
          const angle = Math.atan2(dy, dx) - c.arcStart;
          const around = angle - 2 * Math.PI * Math.floor(angle / (2 * Math.PI));
          if (around > c.arcSpan) continue;
          const off = (dist - r) / line;
          v = Math.exp(-off * off);
        } else {
          const off = dist / (r * 0.7);
          v = Math.exp(-off * off);
        }
        const k = (row - rect.y0) * rw + (col - rect.x0);
        delta[k] = delta[k]! + c.density * v;
      }
    }
  }
}

export function renderLesion(lesion: Lesion, view: ViewKind, frame: Frame, host: BoneShape, maps: ViewMaps, rng: Rng): PixelBox | undefined {
  const lobes = lesion.lobes.map((l) => project(l, view));
  const mass = lesion.mass ? project(lesion.mass, view) : undefined;
  const main = lobes[0];
  if (!main) return undefined;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const l of mass ? [...lobes, mass] : lobes) {
    x0 = Math.min(x0, l.u - l.ru);
    x1 = Math.max(x1, l.u + l.ru);
    y0 = Math.min(y0, l.y - l.ry);
    y1 = Math.max(y1, l.y + l.ry);
  }
  const rect = pixelRect(frame, x0 - 4, y0 - 4, x1 + 4, y1 + 4, maps.width, maps.height);
  if (!rect) return undefined;
  const rw = rect.x1 - rect.x0;
  const rh = rect.y1 - rect.y0;
  const spacing = frameSpacing(frame);
  const delta = new Float32Array(rw * rh);
  const cloud = new Float32Array(rw * rh);
  const whole = { x0: 0, y0: 0, x1: rw, y1: rh };
  if (lesion.osteoid > 0) {
    valueNoise(rng, cloud, rw, whole, 5 / spacing, 5 / spacing);
    valueNoise(rng, cloud, rw, whole, 2 / spacing, 2 / spacing, 0.5, true);
  }
  const r2 = new Float64Array(lobes.length);
  const spiculeWidth = 0.35;
  for (let row = rect.y0; row < rect.y1; row++) {
    for (let col = rect.x0; col < rect.x1; col++) {
      const u = frame.ax * col + frame.bx * row + frame.cx;
      const y = frame.ay * col + frame.by * row + frame.cy;
      const local = (row - rect.y0) * rw + (col - rect.x0);
      const k = row * maps.width + col;
      const osteoid = lesion.osteoid > 0 ? Math.min(1, Math.max(0, cloud[local]! * 1.6 + 0.1)) : 0;
      let chord = 0;
      for (let i = 0; i < lobes.length; i++) {
        const l = lobes[i]!;
        const du = (u - l.u) / l.ru;
        const dv = (y - l.y) / l.ry;
        r2[i] = du * du + dv * dv;
        if (r2[i]! < 1) chord = Math.max(chord, 2 * l.rd * Math.pow(1 - r2[i]!, lesion.margin));
      }
      let change = 0;
      const depth = maps.depth[k]!;
      if (chord > 0 && depth > 0) {
        // lesions also scallop the endosteum and thin the cortex from inside, so they clear more
        // than their own chord of the ray's bone
        const share = Math.min(1, (2 * chord) / depth);
        const lysis = lesion.lysis * (1 - 0.85 * osteoid);
        change -= share * (lysis * maps.cancellous[k]! + lesion.corticalLysis * maps.cortical[k]!);
        change += lesion.osteoid * MU_OSTEOID * chord * osteoid;
      }
      if (lesion.rim > 0) {
        let shell = 0;
        for (let i = 0; i < lobes.length; i++) {
          const l = lobes[i]!;
          const outer = Math.sqrt(l.ru * l.ry);
          const r = Math.sqrt(r2[i]!) * outer;
          if (r >= outer) continue;
          const inner = outer - lesion.rim;
          const path = (l.rd / outer) * (2 * Math.sqrt(outer * outer - r * r) - (r < inner ? 2 * Math.sqrt(inner * inner - r * r) : 0));
          let insideOther = false;
          for (let j = 0; j < lobes.length; j++) if (j !== i && r2[j]! < 0.92) insideOther = true;
          shell += insideOther ? path * lesion.septa : path;
        }
        change += MU_CORTEX * lesion.rimDensity * shell;
      }
      if (mass) {
        const du = (u - mass.u) / mass.ru;
        const dv = (y - mass.y) / mass.ry;
        const m2 = du * du + dv * dv;
        if (m2 < 1) {
          const outside = boneDistance(host, u, y);
          const massChord = 2 * mass.rd * Math.pow(1 - m2, 0.7);
          change += MU_MUSCLE * 0.5 * massChord * (outside > 0 ? 1 : 0.3);
          if (outside > 0) {
            change += lesion.osteoid * MU_OSTEOID * 0.15 * massChord * osteoid;
            const angle = Math.atan2(y - main.y, u - main.u);
            const radius = Math.hypot(y - main.y, u - main.u);
            const t = (angle * lesion.spicules) / (2 * Math.PI) + 0.06 * cloud[local]!;
            const across = Math.abs(t - Math.floor(t) - 0.5) * ((2 * Math.PI * radius) / lesion.spicules);
            const reach = Math.max(4, (mass.ru + mass.rd) * 0.35);
            change += SPICULE * Math.exp(-(across * across) / (spiculeWidth * spiculeWidth)) * Math.exp(-outside / reach) * Math.sqrt(1 - m2);
          }
        }
      }
      delta[local] = change;
    }
  }
  drawCalcifications(lesion, view, frame, delta, rect);
  let peak = 0;
  for (let i = 0; i < delta.length; i++) peak = Math.max(peak, Math.abs(delta[i]!));
  const threshold = Math.max(VISIBLE, 0.1 * peak);
  let bx0 = Infinity;
  let by0 = Infinity;
  let bx1 = -Infinity;
  let by1 = -Infinity;
  for (let row = 0; row < rh; row++) {
    for (let col = 0; col < rw; col++) {
      const v = delta[row * rw + col]!;
      if (Math.abs(v) <= threshold) continue;
      bx0 = Math.min(bx0, col);
      bx1 = Math.max(bx1, col);
      by0 = Math.min(by0, row);
      by1 = Math.max(by1, row);
    }
  }
  for (let row = 0; row < rh; row++) {
    for (let col = 0; col < rw; col++) {
      const k = (row + rect.y0) * maps.width + col + rect.x0;
      maps.total[k] = maps.total[k]! + delta[row * rw + col]!;
    }
  }
  if (bx0 > bx1) return undefined;
  return { x: rect.x0 + bx0, y: rect.y0 + by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1 };
}
