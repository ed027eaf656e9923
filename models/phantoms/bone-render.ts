/**
 * Projects a bone onto the detector as path lengths (mm) through its cortical shell and through
 * its cancellous core. Each bone is a smooth union of shapes in its own frame; across the shape a
 * round cross-section is assumed near the edges (radius `edge`) and a plateau of thickness
 * `depth` inside, so the cortex seen edge-on gives the bright rim of a real radiograph.
 */
import { type Frame, pixelRect, frameSpacing } from './frame';
import { type Shape, type Ellipse, shapeBounds, shapeDistance, smoothUnionWeight } from './shapes';

export interface BonePart {
  shape: Shape;
  /** Radius (mm) over which the cross-section rounds off at the silhouette. */
  edge: number;
  /** Out-of-plane thickness (mm) of the bone inside the silhouette. */
  depth: number;
  /** Cortical thickness (mm). */
  cortex: number;
  /** Density of the trabecular core relative to metaphyseal bone (fatty shaft marrow is low). */
  trabecular: number;
}

/** A growth plate: a wavy cartilage band across the bone, with the denser provisional zone beside it. */
export interface Physis {
  y: number;
  tilt: number;
  amplitude: number;
  wavelength: number;
  phase: number;
  /** Half-width (mm) of the cartilage band. */
  width: number;
  /** 0 = no lucency (closed), 1 = cartilage only (wide open). */
  openness: number;
  /** Extra density of the zone of provisional calcification, relative to cancellous bone. */
  sclerosis: number;
  /** +1 when the metaphysis lies distal to the plate (tibia), -1 when proximal (femur). */
  metaphysisSide: 1 | -1;
}

/** A hollow seen through the bone (the intercondylar notch): less bone, a thin dense outline. */
export interface Hollow {
  shape: Ellipse;
  loss: number;
  outline: number;
}

export interface Bone {
  name: 'femur' | 'tibia' | 'fibula' | 'patella';
  frame: Frame;
  parts: BonePart[];
  /** Smooth-union blend radius (mm). */
  blend: number;
  physis?: Physis;
  hollow?: Hollow;
}

/** Per-pixel path lengths (mm) through bone, summed over overlapping bones. */
export interface BoneMaps {
  width: number;
  height: number;
  cortical: Float32Array;
  cancellous: Float32Array;
  /** Total path length through bone: a lesion's share of it is how much bone it removes. */
  depth: Float32Array;
}

export function emptyBoneMaps(width: number, height: number): BoneMaps {
  const n = width * height;
  return { width, height, cortical: new Float32Array(n), cancellous: new Float32Array(n), depth: new Float32Array(n) };
}

/** Chord (mm) through a round edge of radius r at depth s inside the silhouette, averaged over a pixel of half-size h. */
function chord(s: number, r: number, h: number): number {
  if (s <= -h) return 0;
  if (s < h) {
    // near the edge the chord grows like 2 sqrt(2 r s); average that over the pixel
    const t = s + h;
    return (2 * Math.sqrt(2 * r) * (2 / 3) * t * Math.sqrt(t)) / (2 * h);
  }
  if (s >= r) return 2 * r;
  return 2 * Math.sqrt(s * (2 * r - s));
}

export function renderBone(bone: Bone, maps: BoneMaps): void {
  const { width, height } = maps;
  const f = bone.frame;
  const h = frameSpacing(f) / 2;
  const parts = bone.parts;
  // a part farther than the blend radius from a pixel cannot change the union there: skip it by its box
  const bounds = parts.map((p) => shapeBounds(p.shape, bone.blend + 2 * h));
  const x0 = Math.min(...bounds.map((b) => b.x0));
  const y0 = Math.min(...bounds.map((b) => b.y0));
  const x1 = Math.max(...bounds.map((b) => b.x1));
  const y1 = Math.max(...bounds.map((b) => b.y1));
  const rect = pixelRect(f, x0, y0, x1, y1, width, height);
  if (!rect) return;
  const { physis, hollow } = bone;
  const { cortical: cortMap, cancellous: cancMap, depth: depthMap } = maps;
  for (let row = rect.y0; row < rect.y1; row++) {
    for (let col = rect.x0; col < rect.x1; col++) {
      const x = f.ax * col + f.bx * row + f.cx;
      const y = f.ay * col + f.by * row + f.cy;
      let d = Infinity;
      let edge = 0;
      let depth = 0;
      let cortex = 0;
      let trabecular = 0;
      for (let i = 0; i < parts.length; i++) {
        const b = bounds[i]!;
        if (x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1) continue;
        const p = parts[i]!;
        const di = shapeDistance(p.shape, x, y);
        if (d === Infinity) {
          d = di;
          edge = p.edge;
          depth = p.depth;
          cortex = p.cortex;
          trabecular = p.trabecular;
          continue;
        }
        const w = smoothUnionWeight(di, d, bone.blend);
        if (w === 0) continue;
        d = d + (di - d) * w - bone.blend * w * (1 - w);
        edge += (p.edge - edge) * w;
        depth += (p.depth - depth) * w;
        cortex += (p.cortex - cortex) * w;
        trabecular += (p.trabecular - trabecular) * w;
      }
      const inside = -d;
      if (inside <= -h) continue;
      const outer = (depth / (2 * edge)) * chord(inside, edge, h);
      const innerEdge = Math.max(edge - cortex, 0.5);
      const innerDepth = Math.max(depth - 2 * cortex, 0.5);
      const inner = (innerDepth / (2 * innerEdge)) * chord(inside - cortex, innerEdge, h);
      let cortical = outer - inner;
      let cancellous = inner * trabecular;
      if (physis) {
        const yc = physis.y + physis.tilt * x + physis.amplitude * Math.sin((2 * Math.PI * x) / physis.wavelength + physis.phase);
        const u = (y - yc) / physis.width;
        const cartilage = physis.openness * Math.exp(-u * u);
        const v = u - physis.metaphysisSide * 1.8;
        const zone = physis.sclerosis * Math.exp(-v * v * 0.6);
        cortical *= 1 - cartilage;
        cancellous *= 1 - cartilage + zone;
      }
      if (hollow) {
        const dh = shapeDistance(hollow.shape, x, y);
        if (dh < 2) {
          const into = dh < -2 ? 1 : (2 - dh) / 4;
          cancellous *= 1 - hollow.loss * into;
          cortical += hollow.outline * Math.exp(-dh * dh);
        }
      }
      const k = row * width + col;
      cortMap[k] = cortMap[k]! + cortical;
      cancMap[k] = cancMap[k]! + cancellous;
      depthMap[k] = depthMap[k]! + outer;
    }
  }
}
