/**
 * 2-D signed distance functions (negative inside, millimetres) of the few primitives the bones
 * are built from, and the smooth union that blends them without creases. Primitives are plain
 * data with a kind switch so that the pixel loops stay monomorphic and allocation-free.
 */

/** A tapered capsule (round cone): the segment (x0, y0)-(x1, y1) swept by a radius r0 → r1. */
export interface Capsule {
  kind: 'capsule';
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  r0: number;
  r1: number;
}

/** An ellipse rotated by an angle given as its cosine and sine (kept so pixel loops need no trigonometry). */
export interface Ellipse {
  kind: 'ellipse';
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  cos: number;
  sin: number;
}

/** A rectangle with rounded corners, half sizes hx, hy, rotated like an ellipse. */
export interface RoundBox {
  kind: 'box';
  cx: number;
  cy: number;
  hx: number;
  hy: number;
  corner: number;
  cos: number;
  sin: number;
}

export type Shape = Capsule | Ellipse | RoundBox;

function capsuleDistance(s: Capsule, px: number, py: number): number {
  const dx = s.x1 - s.x0;
  const dy = s.y1 - s.y0;
  const length = Math.hypot(dx, dy);
  // rotate the point into the segment's frame (u along the segment, v across)
  const ux = dx / length;
  const uy = dy / length;
  const qx = px - s.x0;
  const qy = py - s.y0;
  const u = qx * ux + qy * uy;
  const v = Math.abs(qx * -uy + qy * ux);
  // round cone (Quilez): exact distance to the hull of two circles
  const b = (s.r0 - s.r1) / length;
  const a = Math.sqrt(Math.max(0, 1 - b * b));
  const k = v * -b + u * a;
  if (k < 0) return Math.hypot(u, v) - s.r0;
  if (k > a * length) return Math.hypot(u - length, v) - s.r1;
  return u * b + v * a - s.r0;
}

function ellipseDistance(s: Ellipse, px: number, py: number): number {
  const { cos, sin } = s;
  const dx = px - s.cx;
  const dy = py - s.cy;
  const x = dx * cos + dy * sin;
  const y = -dx * sin + dy * cos;
  // first-order distance approximation: exact on the boundary, smooth everywhere
  const k0 = Math.hypot(x / s.rx, y / s.ry);
  const k1 = Math.hypot(x / (s.rx * s.rx), y / (s.ry * s.ry));
  return k1 > 1e-9 ? (k0 * (k0 - 1)) / k1 : -Math.min(s.rx, s.ry);
}

function boxDistance(s: RoundBox, px: number, py: number): number {
  const { cos, sin } = s;
  const dx = px - s.cx;
  const dy = py - s.cy;
  const x = Math.abs(dx * cos + dy * sin) - s.hx + s.corner;
  const y = Math.abs(-dx * sin + dy * cos) - s.hy + s.corner;
  return Math.hypot(Math.max(x, 0), Math.max(y, 0)) + Math.min(Math.max(x, y), 0) - s.corner;
}

export function ellipse(cx: number, cy: number, rx: number, ry: number, angle = 0): Ellipse {
  return { kind: 'ellipse', cx, cy, rx, ry, cos: Math.cos(angle), sin: Math.sin(angle) };
}

export function roundBox(cx: number, cy: number, hx: number, hy: number, corner: number, angle = 0): RoundBox {
  return { kind: 'box', cx, cy, hx, hy, corner, cos: Math.cos(angle), sin: Math.sin(angle) };
}

export function capsule(x0: number, y0: number, r0: number, x1: number, y1: number, r1: number): Capsule {
  return { kind: 'capsule', x0, y0, r0, x1, y1, r1 };
}

export function shapeDistance(s: Shape, px: number, py: number): number {
  switch (s.kind) {
    case 'capsule':
      return capsuleDistance(s, px, py);
    case 'ellipse':
      return ellipseDistance(s, px, py);
    case 'box':
      return boxDistance(s, px, py);
  }
}

/** Local bounding rectangle of a shape, grown by `margin` millimetres. */
export function shapeBounds(s: Shape, margin: number): { x0: number; y0: number; x1: number; y1: number } {
  switch (s.kind) {
    case 'capsule':
      return {
        x0: Math.min(s.x0 - s.r0, s.x1 - s.r1) - margin,
        y0: Math.min(s.y0 - s.r0, s.y1 - s.r1) - margin,
        x1: Math.max(s.x0 + s.r0, s.x1 + s.r1) + margin,
        y1: Math.max(s.y0 + s.r0, s.y1 + s.r1) + margin,
      };
    case 'ellipse': {
      const r = Math.max(s.rx, s.ry) + margin;
      return { x0: s.cx - r, y0: s.cy - r, x1: s.cx + r, y1: s.cy + r };
    }
    case 'box': {
      const r = Math.hypot(s.hx, s.hy) + margin;
      return { x0: s.cx - r, y0: s.cy - r, x1: s.cx + r, y1: s.cy + r };
    }
  }
}

/**
 * Weight of the newer shape in a polynomial smooth union of distances a (newer) and b, over a
 * blend radius k; the union distance is then b + (a - b) h - k h (1 - h).
 */
export function smoothUnionWeight(a: number, b: number, k: number): number {
  const h = 0.5 + (0.5 * (b - a)) / k;
  return h < 0 ? 0 : h > 1 ? 1 : h;
}
