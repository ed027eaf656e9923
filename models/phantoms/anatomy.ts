/**
 * The knee's bones as seen on each view, in millimetres. Knee frame: x mediolateral on the AP
 * view (lateral side positive) and anteroposterior on the lateral view (anterior positive), y
 * craniocaudal (distal positive) with the joint line at y = 0. The femur, patella and soft tissue
 * live in the view frame; tibia and fibula in a frame that the lateral view flexes about the knee.
 */
import type { BonePart, Hollow, Physis } from './bone-render';
import type { Rng } from './random';
import { capsule, ellipse, roundBox as box, shapeDistance, smoothUnionWeight, type Shape } from './shapes';

export type ViewKind = 'AP' | 'LATERAL';
export type BoneName = 'femur' | 'tibia' | 'fibula' | 'patella';

/** Patient-specific build of the knee, drawn once and shared by both views. */
export interface KneeBuild {
  /** Overall size (1 = average adult). */
  scale: number;
  /** AP-view tilt of the femoral shaft (radians, proximal end to the lateral side). */
  femurTilt: number;
  /** Condyle and plateau width relative to the average. */
  condyleWidth: number;
  /** Patella height above the joint line relative to the average (alta > 1). */
  patellaHeight: number;
  /** Knee flexion on the lateral view (radians). */
  flexion: number;
  /** Growth plates: open in children, closing in adolescents, a faint scar in adults. */
  physisOpenness: number;
  physisWidth: number;
  physisSclerosis: number;
  /** Shaft cortical thickness relative to the average (thin in the elderly). */
  cortex: number;
}

export function drawKneeBuild(rng: Rng, ageYears: number, sex: 'M' | 'F'): KneeBuild {
  const growth = ageYears >= 16 ? 1 : Math.max(0.72, 0.72 + ((ageYears - 6) / 10) * 0.28);
  const sexScale = sex === 'M' ? 1.04 : 0.95;
  let physisOpenness: number;
  let physisWidth: number;
  let physisSclerosis: number;
  if (ageYears < 14) {
    physisOpenness = rng.uniform(0.8, 0.95);
    physisWidth = rng.uniform(0.9, 1.4);
    physisSclerosis = rng.uniform(0.25, 0.5);
  } else if (ageYears < 18) {
    physisOpenness = rng.uniform(0.45, 0.85);
    physisWidth = rng.uniform(0.6, 1.0);
    physisSclerosis = rng.uniform(0.25, 0.5);
  } else if (ageYears < 25) {
    physisOpenness = rng.uniform(0, 0.15);
    physisWidth = rng.uniform(0.5, 0.8);
    physisSclerosis = rng.uniform(0.15, 0.35);
  } else {
    physisOpenness = 0;
    physisWidth = rng.uniform(0.4, 0.7);
    physisSclerosis = rng.uniform(0.02, 0.2);
  }
  return {
    scale: growth * sexScale * rng.uniform(0.93, 1.07),
    femurTilt: rng.uniform(0.05, 0.12),
    condyleWidth: rng.uniform(0.94, 1.06),
    patellaHeight: rng.uniform(0.85, 1.2),
    flexion: rng.uniform(0.08, 0.55),
    physisOpenness,
    physisWidth,
    physisSclerosis,
    cortex: ageYears > 65 ? rng.uniform(0.7, 0.9) : rng.uniform(0.9, 1.15),
  };
}

export interface BoneShape {
  name: BoneName;
  /** Which frame the bone is drawn in: the view's, or the tibia's (flexed on the lateral view). */
  frame: 'view' | 'tibia';
  parts: BonePart[];
  blend: number;
  physis?: Physis;
  hollow?: Hollow;
}

function part(shape: Shape, edge: number, depth: number, cortex: number, trabecular: number): BonePart {
  return { shape, edge, depth, cortex, trabecular };
}

function physis(build: KneeBuild, y: number, side: 1 | -1, phase: number, amplitude: number): Physis | undefined {
  if (build.physisOpenness <= 0 && build.physisSclerosis <= 0.03) return undefined;
  return {
    y,
    tilt: 0,
    amplitude: amplitude * build.scale,
    wavelength: 38 * build.scale,
    phase,
    width: build.physisWidth,
    openness: build.physisOpenness,
    sclerosis: build.physisSclerosis,
    metaphysisSide: side,
  };
}

/** Levels (mm) of the distal femoral and proximal tibial growth plates. */
export function physisLevels(build: KneeBuild): { femur: number; tibia: number } {
  return { femur: -24 * build.scale, tibia: 20 * build.scale };
}

function apBones(b: KneeBuild): BoneShape[] {
  const s = b.scale;
  const w = b.scale * b.condyleWidth;
  const c = b.cortex;
  const shaftTop = -300 * s;
  const femur: BoneShape = {
    name: 'femur',
    frame: 'view',
    blend: 9 * s,
    parts: [
      part(capsule(Math.tan(b.femurTilt) * 200 * s, shaftTop, 14.5 * s, 0, -100 * s, 15 * s), 14.5 * s, 29 * s, 5 * s * c, 0.3),
      part(capsule(0, -100 * s, 15 * s, 0, -42 * s, 34 * w), 13 * s, 44 * s, 1.6 * s, 0.95),
      part(ellipse(-20.5 * w, -22 * s, 19 * w, 20.5 * s), 14 * s, 56 * s, 1.1 * s, 1),
      part(ellipse(19.5 * w, -23 * s, 18.5 * w, 19.5 * s, -0.08), 14 * s, 54 * s, 1.1 * s, 1),
    ],
    physis: physis(b, physisLevels(b).femur, -1, 0.3, 2.5),
    hollow: { shape: ellipse(0.5 * w, -3 * s, 8 * w, 15 * s), loss: 0.55, outline: 1.2 },
  };
  const tibia: BoneShape = {
    name: 'tibia',
    frame: 'tibia',
    blend: 8 * s,
    parts: [
      part(box(0, 17 * s, 38 * w, 14 * s, 7 * s), 9 * s, 46 * s, 1.3 * s, 1),
      part(ellipse(-5 * w, 3 * s, 4 * s, 5.5 * s), 4 * s, 14 * s, 1 * s, 1),
      part(ellipse(5.5 * w, 3.5 * s, 4 * s, 5 * s), 4 * s, 14 * s, 1 * s, 1),
      part(capsule(0, 28 * s, 33 * w, 0, 105 * s, 15 * s), 12 * s, 40 * s, 1.8 * s, 0.9),
      part(capsule(0, 105 * s, 15 * s, -3 * s, 320 * s, 12 * s), 13 * s, 27 * s, 5 * s * c, 0.3),
    ],
    physis: physis(b, physisLevels(b).tibia, 1, 1.7, 1.8),
  };
  const fibula: BoneShape = {
    name: 'fibula',
    frame: 'tibia',
    blend: 5 * s,
    parts: [
      part(ellipse(33 * w, 25 * s, 10.5 * s, 12 * s, 0.2), 8 * s, 22 * s, 1.2 * s, 0.9),
      part(ellipse(37 * w, 16 * s, 4 * s, 5 * s), 4 * s, 8 * s, 1 * s, 0.9),
      part(capsule(33 * w, 36 * s, 7 * s, 28 * s, 320 * s, 7.5 * s), 7 * s, 14 * s, 2.6 * s * c, 0.3),
    ],
    physis: physis(b, 24 * s, 1, 0.9, 0.6),
  };
  const patella: BoneShape = {
    name: 'patella',
    frame: 'view',
    blend: 4 * s,
    parts: [part(ellipse(3 * w, -34 * s * b.patellaHeight, 21 * w, 23 * s, 0.1), 14 * s, 16 * s, 0.7 * s, 0.6)],
  };
  return [femur, tibia, fibula, patella];
}

function lateralBones(b: KneeBuild): BoneShape[] {
  const s = b.scale;
  const w = b.scale * b.condyleWidth;
  const c = b.cortex;
  const femur: BoneShape = {
    name: 'femur',
    frame: 'view',
    blend: 10 * s,
    parts: [
      part(capsule(3 * s, -300 * s, 15 * s, 0, -100 * s, 16 * s), 15 * s, 30 * s, 5 * s * c, 0.3),
      part(capsule(0, -100 * s, 16 * s, -6 * s, -48 * s, 27 * s), 13 * s, 66 * w, 1.6 * s, 0.95),
      part(ellipse(-10 * s, -24 * s, 27 * s, 23 * s), 15 * s, 62 * w, 1.1 * s, 1),
      part(ellipse(9 * s, -33 * s, 15 * s, 19 * s, -0.25), 12 * s, 55 * w, 1.1 * s, 1),
    ],
    physis: physis(b, physisLevels(b).femur - 1 * s, -1, 2.1, 2),
    hollow: { shape: ellipse(-12 * s, -14 * s, 16 * s, 7 * s, -0.65), loss: 0.3, outline: 1.4 },
  };
  const tibia: BoneShape = {
    name: 'tibia',
    frame: 'tibia',
    blend: 8 * s,
    parts: [
      part(box(-5 * s, 16 * s, 27 * s, 13 * s, 7 * s, -0.12), 10 * s, 74 * w, 1.3 * s, 1),
      part(ellipse(-4 * s, 4 * s, 5 * s, 5 * s), 4 * s, 16 * s, 1 * s, 1),
      part(ellipse(21 * s, 42 * s, 8 * s, 17 * s, 0.2), 8 * s, 30 * s, 1.5 * s, 0.9),
      part(capsule(-4 * s, 30 * s, 25 * s, 1 * s, 105 * s, 15 * s), 12 * s, 50 * w, 1.8 * s, 0.9),
      part(capsule(1 * s, 105 * s, 15 * s, -1 * s, 320 * s, 12 * s), 13 * s, 23 * s, 5 * s * c, 0.3),
    ],
    physis: physis(b, physisLevels(b).tibia, 1, 0.4, 1.6),
  };
  const fibula: BoneShape = {
    name: 'fibula',
    frame: 'tibia',
    blend: 5 * s,
    parts: [
      part(ellipse(-24 * s, 26 * s, 10 * s, 11.5 * s), 8 * s, 20 * s, 1.2 * s, 0.9),
      part(capsule(-23 * s, 37 * s, 7 * s, -14 * s, 320 * s, 6.5 * s), 6.5 * s, 13 * s, 2.6 * s * c, 0.3),
    ],
    physis: physis(b, 24 * s, 1, 2.5, 0.6),
  };
  const patella: BoneShape = {
    name: 'patella',
    frame: 'view',
    blend: 4 * s,
    parts: [part(ellipse(31 * s, -34 * s * b.patellaHeight, 11 * s, 23 * s, -0.2), 8 * s, 42 * w, 1.6 * s, 0.8)],
  };
  return [femur, tibia, fibula, patella];
}

export function kneeBones(build: KneeBuild, view: ViewKind): BoneShape[] {
  return view === 'AP' ? apBones(build) : lateralBones(build);
}

/** Silhouette distance of a bone at a point of its frame (negative inside). */
export function boneDistance(bone: BoneShape, x: number, y: number): number {
  const [first, ...rest] = bone.parts;
  if (!first) return Infinity;
  let d = shapeDistance(first.shape, x, y);
  for (const p of rest) {
    const di = shapeDistance(p.shape, x, y);
    const w = smoothUnionWeight(di, d, bone.blend);
    d = d + (di - d) * w - bone.blend * w * (1 - w);
  }
  return d;
}

/** The bone's extent across (x) at a level y of its frame, found by scanning its silhouette. */
export function boneSpan(bone: BoneShape, y: number): { x0: number; x1: number } | undefined {
  let x0 = Infinity;
  let x1 = -Infinity;
  for (let x = -120; x <= 120; x += 0.5) {
    if (boneDistance(bone, x, y) < 0) {
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
    }
  }
  return x0 <= x1 ? { x0, x1 } : undefined;
}
