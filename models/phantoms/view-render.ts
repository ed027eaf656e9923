/**
 * Renders one view of a planned patient: soft tissue, bones with their trabecular texture, the
 * lesion, the lead marker, then the detector. The order matters: the lesion removes textured bone,
 * and the marker is laid where there is no limb.
 */
import type { PixelBox } from '../../server/src/domain/analysis';
import { kneeBones } from './anatomy';
import { MU_CANCELLOUS, MU_CORTEX } from './attenuation';
import { emptyBoneMaps, renderBone } from './bone-render';
import { type DetectorImage, expose } from './detector';
import { renderLesion } from './lesion-render';
import { type MarkerPlacement, markerExtent, renderMarker } from './marker';
import type { PatientPlan, ViewPlan } from './plan';
import type { Rng } from './random';
import { renderSoftTissue, softTissue } from './soft-tissue';
import { trabecularField, valueNoise } from './texture';

export interface RenderedView {
  image: DetectorImage;
  width: number;
  height: number;
  /** Tight box around the lesion on this view; absent on a normal view. */
  box?: PixelBox;
}

/** Bounding rectangle of the pixels where there is bone. */
function boneRect(depth: Float32Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | undefined {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let row = 0; row < height; row++) {
    for (let col = 0, k = row * width; col < width; col++, k++) {
      if (depth[k] === 0) continue;
      if (col < x0) x0 = col;
      if (col > x1) x1 = col;
      if (row < y0) y0 = row;
      y1 = row;
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/** Lays the marker in the first field corner (in a random order) that is clear of the limb. */
function placeMarker(plan: PatientPlan, view: ViewPlan, soft: Float32Array, width: number, height: number, rng: Rng): MarkerPlacement {
  const c = view.detector.collimation;
  const size = view.markerSizeMm / view.spacingMm;
  const inset = size * 0.9;
  const left = c.left * width + inset;
  const right = (1 - c.right) * width - inset - size * 0.7;
  const top = c.top * height + inset;
  const bottom = (1 - c.bottom) * height - inset - size;
  const corners = [
    [left, top],
    [right, top],
    [left, bottom],
    [right, bottom],
  ] as const;
  const start = rng.int(0, 3);
  let chosen: MarkerPlacement | undefined;
  for (let i = 0; i < 4 && !chosen; i++) {
    const [col, row] = corners[(start + i) % 4]!;
    const m: MarkerPlacement = { letter: plan.laterality, col, row, size, angle: rng.uniform(-0.15, 0.15), mirrored: view.markerMirrored, holder: view.markerHolder };
    const e = markerExtent(m);
    let clear = true;
    for (let y = Math.max(0, Math.floor(e.y0)); y < Math.min(height, e.y1) && clear; y += 4) {
      for (let x = Math.max(0, Math.floor(e.x0)); x < Math.min(width, e.x1); x += 4) {
        if (soft[y * width + x]! > 0.01) {
          clear = false;
          break;
        }
      }
    }
    if (clear) chosen = m;
  }
  const [col, row] = corners[start]!;
  return chosen ?? { letter: plan.laterality, col, row, size, angle: 0, mirrored: view.markerMirrored, holder: view.markerHolder };
}

export function renderView(plan: PatientPlan, view: ViewPlan, width: number, height: number, rng: Rng): RenderedView {
  const n = width * height;
  const total = new Float32Array(n);
  const tissue = softTissue(view.view, plan.build.scale, plan.habitus, rng);
  renderSoftTissue(tissue, view.frame, view.tibiaFrame, width, height, total, (gw, gh, step) => {
    const mottle = new Float32Array(gw * gh);
    const cell = 9 / view.spacingMm / step;
    valueNoise(rng, mottle, gw, { x0: 0, y0: 0, x1: gw, y1: gh }, cell, cell * 1.6, 0.035);
    return mottle;
  });
  const marker = placeMarker(plan, view, total, width, height, rng);
  const cancellous = new Float32Array(n);

  const bones = kneeBones(plan.build, view.view);
  const maps = emptyBoneMaps(width, height);
  for (const bone of bones) renderBone({ ...bone, frame: bone.frame === 'view' ? view.frame : view.tibiaFrame }, maps);
  const cortical = new Float32Array(n);
  const rect = boneRect(maps.depth, width, height);
  if (rect) {
    const texture = trabecularField(rng, width, height, rect, view.strutMm / view.spacingMm);
    const contrast = view.trabecularContrast;
    const { depth, cancellous: canc, cortical: cort } = maps;
    for (let row = rect.y0; row < rect.y1; row++) {
      for (let k = row * width + rect.x0, end = row * width + rect.x1; k < end; k++) {
        if (depth[k] === 0) continue;
        const t = texture[k]! - 0.35;
        const c = MU_CANCELLOUS * canc[k]! * (1 + contrast * t);
        const o = MU_CORTEX * cort[k]! * (1 + 0.08 * t);
        cancellous[k] = c;
        cortical[k] = o;
        total[k] = total[k]! + c + o;
      }
    }
  }
  let box: PixelBox | undefined;
  const lesion = plan.lesion;
  if (lesion) {
    const host = bones.find((b) => b.name === lesion.bone);
    if (host) {
      const frame = host.frame === 'view' ? view.frame : view.tibiaFrame;
      box = renderLesion(lesion, view.view, frame, host, { width, height, cancellous, cortical, depth: maps.depth, total }, rng);
    }
  }
  const exclude = new Uint8Array(n);
  renderMarker(marker, total, exclude, width, height);
  const image = expose(total, exclude, width, height, view.spacingMm, view.detector, rng);
  return box ? { image, width, height, box } : { image, width, height };
}
