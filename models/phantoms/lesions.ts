/**
 * The primary bone tumors of the method, as 3-D objects in the frame of the bone they grow in
 * (x mediolateral, y craniocaudal, z anteroposterior), drawn once per patient so that the AP view
 * (x, y) and the lateral view (z, y) show the same lesion at the same level.
 */
import type { BoneShape } from './anatomy';
import { boneSpan } from './anatomy';
import type { Rng } from './random';

export type LesionKind = 'bone-cyst' | 'non-ossifying-fibroma' | 'giant-cell-tumor' | 'enchondroma' | 'osteosarcoma';
export const LESION_KINDS: readonly LesionKind[] = ['bone-cyst', 'non-ossifying-fibroma', 'giant-cell-tumor', 'enchondroma', 'osteosarcoma'];

export interface Ellipsoid {
  x: number;
  y: number;
  z: number;
  rx: number;
  ry: number;
  rz: number;
}

/** A chondroid calcification: a small ring or arc, or a dot. */
export interface Calcification {
  x: number;
  y: number;
  z: number;
  radius: number;
  ring: boolean;
  arcStart: number;
  arcSpan: number;
  density: number;
}

export interface Lesion {
  kind: LesionKind;
  bone: 'femur' | 'tibia';
  site: 'metaphysis' | 'epiphysis';
  /** Lobes of the lytic cavity (the first is the main one). */
  lobes: Ellipsoid[];
  /** Share of trabecular bone destroyed inside the lesion. */
  lysis: number;
  /** Share of the cortex destroyed where the lesion reaches it. */
  corticalLysis: number;
  /** Edge profile exponent: 0.5 = sharp geographic margin, larger = wide zone of transition. */
  margin: number;
  /** Sclerotic rim: thickness (mm) and density relative to cortex; 0 = none. */
  rim: number;
  rimDensity: number;
  /** How much of a lobe's rim shows inside another lobe (septa of a bubbly lesion). */
  septa: number;
  calcifications: Calcification[];
  /** Tumor bone (osteoid) clouds, relative density; 0 for benign lesions. */
  osteoid: number;
  /** Soft-tissue mass with sunburst spicules, for aggressive lesions. */
  mass?: Ellipsoid;
  spicules: number;
  /** Longest extent (mm) of the lesion including its soft-tissue mass. */
  sizeMm: number;
}

/** The bone outlines a lesion is placed in: both views of femur and tibia. */
export interface LesionHosts {
  femurAp: BoneShape;
  femurLateral: BoneShape;
  tibiaAp: BoneShape;
  tibiaLateral: BoneShape;
  scale: number;
}

interface KindProfile {
  weight: number;
  sizeMm: readonly [number, number];
  aspect: readonly [number, number];
  extraLobes: readonly [number, number];
  /** How far toward the cortex the centre sits: 0 central, 1 on the cortex. */
  eccentric: readonly [number, number];
}

const PROFILES: Record<LesionKind, KindProfile> = {
  'bone-cyst': { weight: 0.17, sizeMm: [22, 80], aspect: [0.5, 0.75], extraLobes: [0, 2], eccentric: [0, 0.2] },
  'non-ossifying-fibroma': { weight: 0.2, sizeMm: [15, 60], aspect: [0.45, 0.7], extraLobes: [2, 4], eccentric: [0.75, 0.95] },
  'giant-cell-tumor': { weight: 0.2, sizeMm: [30, 95], aspect: [0.75, 1], extraLobes: [1, 3], eccentric: [0.35, 0.6] },
  enchondroma: { weight: 0.18, sizeMm: [12, 60], aspect: [0.5, 0.8], extraLobes: [1, 3], eccentric: [0, 0.3] },
  osteosarcoma: { weight: 0.25, sizeMm: [40, 110], aspect: [0.6, 0.9], extraLobes: [2, 4], eccentric: [0.2, 0.5] },
};

/** Typical age range (years) of each kind, for drawing the tumor patients' ages. */
export const KIND_AGES: Record<LesionKind, readonly [number, number]> = {
  'bone-cyst': [6, 19],
  'non-ossifying-fibroma': [8, 20],
  'giant-cell-tumor': [20, 45],
  enchondroma: [18, 70],
  osteosarcoma: [10, 26],
};

export function drawLesionKind(rng: Rng): LesionKind {
  return rng.weighted(LESION_KINDS.map((kind) => [kind, PROFILES[kind].weight] as const));
}

/** Chondroid matrix: rings, arcs and dots, clumped (cartilage lobules calcify at their rims). */
function drawCalcifications(rng: Rng, main: Ellipsoid, count: number, ringShare: number): Calcification[] {
  const clumps = Array.from({ length: Math.max(2, Math.round(count / 8)) }, () => ({ u: rng.uniform(-0.7, 0.7), v: rng.uniform(-0.7, 0.7), w: rng.uniform(-0.7, 0.7) }));
  const out: Calcification[] = [];
  while (out.length < count) {
    const clump = rng.pick(clumps);
    const u = clump.u + rng.normal() * 0.22;
    const v = clump.v + rng.normal() * 0.22;
    const w = clump.w + rng.normal() * 0.22;
    if (u * u + v * v + w * w > 0.85) continue;
    out.push({
      x: main.x + u * main.rx,
      y: main.y + v * main.ry,
      z: main.z + w * main.rz,
      radius: rng.uniform(0.5, 2.2),
      ring: rng.chance(ringShare),
      arcStart: rng.uniform(0, 2 * Math.PI),
      arcSpan: rng.uniform(Math.PI * 0.5, Math.PI * 1.6),
      density: rng.uniform(0.25, 0.55),
    });
  }
  return out;
}

/**
 * Draws a lesion of the given kind and size in the patient's femur or tibia. The level comes
 * first, then the bone's outline at that level on both views fixes the centre and the radii.
 */
export function drawLesion(rng: Rng, kind: LesionKind, hosts: LesionHosts, physisLevel: { femur: number; tibia: number }): Lesion {
  const profile = PROFILES[kind];
  const s = hosts.scale;
  const bone: 'femur' | 'tibia' = rng.chance(kind === 'non-ossifying-fibroma' || kind === 'osteosarcoma' ? 0.6 : 0.55) ? 'femur' : 'tibia';
  const site = kind === 'giant-cell-tumor' ? 'epiphysis' : 'metaphysis';
  const distalSign = bone === 'femur' ? -1 : 1;
  const size = rng.uniform(profile.sizeMm[0], profile.sizeMm[1]) * Math.sqrt(s);
  const aspect = rng.uniform(profile.aspect[0], profile.aspect[1]);
  const isOs = kind === 'osteosarcoma';
  let ry = (isOs ? size * 0.42 : size / 2) * (site === 'epiphysis' ? 0.75 : 1);
  let y: number;
  if (site === 'epiphysis') {
    // reaching the subchondral bone: the lesion's joint-side pole sits at the articular surface
    y = distalSign * (3 * s + ry * rng.uniform(0.85, 1));
  } else {
    const plate = Math.abs(bone === 'femur' ? physisLevel.femur : physisLevel.tibia);
    y = distalSign * (plate + ry * rng.uniform(0.75, 1.05) + rng.uniform(0, 12) * s);
  }
  const apShape = bone === 'femur' ? hosts.femurAp : hosts.tibiaAp;
  const latShape = bone === 'femur' ? hosts.femurLateral : hosts.tibiaLateral;
  const apSpan = boneSpan(apShape, y) ?? { x0: -30 * s, x1: 30 * s };
  const latSpan = boneSpan(latShape, y) ?? { x0: -25 * s, x1: 25 * s };
  const halfMl = (apSpan.x1 - apSpan.x0) / 2;
  const halfAp = (latSpan.x1 - latSpan.x0) / 2;
  const expansile = kind === 'non-ossifying-fibroma' || kind === 'giant-cell-tumor' ? 1.05 : 0.85;
  const rx = Math.min(ry * aspect, halfMl * expansile);
  const rz = Math.min(ry * aspect, halfAp * expansile);
  ry = Math.max(ry, Math.max(rx, rz));
  // eccentric lesions favour the medial, lateral, anterior or posterior cortex, so that one view sees them edge-on
  const phi = (rng.int(0, 3) * Math.PI) / 2 + rng.uniform(-0.45, 0.45);
  const ecc = rng.uniform(profile.eccentric[0], profile.eccentric[1]);
  const main: Ellipsoid = {
    x: (apSpan.x0 + apSpan.x1) / 2 + Math.cos(phi) * Math.max(0, halfMl - rx * 0.55) * ecc,
    y,
    z: (latSpan.x0 + latSpan.x1) / 2 + Math.sin(phi) * Math.max(0, halfAp - rz * 0.55) * ecc,
    rx,
    ry,
    rz,
  };
  const lobes: Ellipsoid[] = [main];
  const extra = rng.int(profile.extraLobes[0], profile.extraLobes[1]);
  for (let i = 0; i < extra; i++) {
    const f = rng.uniform(0.4, 0.7);
    const room = 1 - f;
    lobes.push({
      x: main.x + rng.uniform(-room, room) * main.rx,
      y: main.y + rng.uniform(-room, room) * main.ry,
      z: main.z + rng.uniform(-room, room) * main.rz,
      rx: main.rx * f * rng.uniform(0.85, 1.15),
      ry: main.ry * f * rng.uniform(0.85, 1.15),
      rz: main.rz * f * rng.uniform(0.85, 1.15),
    });
  }
  const volume = (4 / 3) * Math.PI * main.rx * main.ry * main.rz;
  let mass: Ellipsoid | undefined;
  if (isOs) {
    const grow = rng.uniform(1.15, 1.5);
    mass = {
      x: main.x + Math.cos(phi) * halfMl * rng.uniform(0.45, 0.8),
      y: main.y + distalSign * rng.uniform(-0.1, 0.15) * ry,
      z: main.z + Math.sin(phi) * halfAp * rng.uniform(0.45, 0.8),
      rx: Math.max(rx, halfMl) * grow * 0.8,
      ry: ry * rng.uniform(0.95, 1.2),
      rz: Math.max(rz, halfAp) * grow * 0.8,
    };
  }
  const common = {
    kind,
    bone,
    site,
    lobes,
    mass,
    sizeMm: Math.round(2 * Math.max(ry, mass ? mass.ry : 0, rx, rz)),
  } as const;
  // a rim is a shell around the cavity, never the whole of a small lesion
  const rim = (thickness: number): number => Math.min(thickness, 0.3 * Math.min(rx, rz));
  switch (kind) {
    case 'bone-cyst':
      return { ...common, lysis: rng.uniform(0.75, 0.92), corticalLysis: 0.35, margin: 0.5, rim: rim(rng.uniform(0.5, 1.2)), rimDensity: rng.uniform(0.4, 0.7), septa: rng.uniform(0.1, 0.35), calcifications: [], osteoid: 0, spicules: 0 };
    case 'non-ossifying-fibroma':
      return { ...common, lysis: rng.uniform(0.7, 0.88), corticalLysis: 0.55, margin: 0.5, rim: rim(rng.uniform(1.2, 2.6)), rimDensity: rng.uniform(0.9, 1.3), septa: rng.uniform(0.45, 0.8), calcifications: [], osteoid: 0, spicules: 0 };
    case 'giant-cell-tumor':
      return { ...common, lysis: rng.uniform(0.78, 0.92), corticalLysis: 0.6, margin: rng.uniform(0.55, 0.75), rim: rim(rng.uniform(0, 0.4)), rimDensity: 0.3, septa: rng.uniform(0.15, 0.4), calcifications: [], osteoid: 0, spicules: 0 };
    case 'enchondroma':
      return {
        ...common,
        lysis: rng.uniform(0.6, 0.8),
        corticalLysis: 0.2,
        margin: 0.55,
        rim: rim(rng.uniform(0.2, 0.6)),
        rimDensity: 0.35,
        septa: 0.15,
        calcifications: drawCalcifications(rng, main, Math.round(Math.min(160, Math.max(10, volume / rng.uniform(80, 180)))), 0.5),
        osteoid: 0,
        spicules: 0,
      };
    case 'osteosarcoma':
      return {
        ...common,
        lysis: rng.uniform(0.45, 0.75),
        corticalLysis: 0.7,
        margin: rng.uniform(1.1, 1.6),
        rim: 0,
        rimDensity: 0,
        septa: 0,
        calcifications: [],
        osteoid: rng.uniform(0.6, 1.2),
        spicules: rng.int(28, 60),
      };
  }
}
