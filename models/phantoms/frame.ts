/**
 * Where a body part lies on the detector: an affine map from image pixels to a part's own
 * millimetre frame (x across, y craniocaudal, distal positive, joint line at y = 0) and back.
 * Each bone of a view gets its own frame so that the flexed tibia of a lateral view is only a
 * rotation about the knee; a lesion drawn in its bone's frame then lands at the same place.
 */
export interface Frame {
  /** local x = ax * column + bx * row + cx; local y = ay * column + by * row + cy */
  ax: number;
  bx: number;
  cx: number;
  ay: number;
  by: number;
  cy: number;
}

export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * A view frame: the image centre (pixels) sits at local (originX, originY) mm, the patient is
 * rotated by `angle` radians in the image plane, and `mirror` flips the x axis (which side of the
 * image the lateral or anterior side falls on).
 */
export function viewFrame(spacingMm: number, centerCol: number, centerRow: number, origin: { x: number; y: number }, angle: number, mirror: boolean): Frame {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const m = mirror ? -1 : 1;
  // local = R(angle) * (pixel - centre) * spacing, then x mirrored, then shifted to the origin
  const ax = m * cos * spacingMm;
  const bx = -m * sin * spacingMm;
  const ay = sin * spacingMm;
  const by = cos * spacingMm;
  return {
    ax,
    bx,
    cx: origin.x - ax * centerCol - bx * centerRow,
    ay,
    by,
    cy: origin.y - ay * centerCol - by * centerRow,
  };
}

/** The same frame rotated about a local pivot (e.g. the tibia flexed about the knee). */
export function rotateFrame(frame: Frame, pivotX: number, pivotY: number, angle: number): Frame {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // local' = R(angle) * (local - pivot) + pivot
  return {
    ax: cos * frame.ax - sin * frame.ay,
    bx: cos * frame.bx - sin * frame.by,
    cx: cos * (frame.cx - pivotX) - sin * (frame.cy - pivotY) + pivotX,
    ay: sin * frame.ax + cos * frame.ay,
    by: sin * frame.bx + cos * frame.by,
    cy: sin * (frame.cx - pivotX) + cos * (frame.cy - pivotY) + pivotY,
  };
}

export function toLocal(frame: Frame, col: number, row: number): { x: number; y: number } {
  return { x: frame.ax * col + frame.bx * row + frame.cx, y: frame.ay * col + frame.by * row + frame.cy };
}

export function toPixel(frame: Frame, x: number, y: number): { col: number; row: number } {
  const det = frame.ax * frame.by - frame.bx * frame.ay;
  const dx = x - frame.cx;
  const dy = y - frame.cy;
  return { col: (frame.by * dx - frame.bx * dy) / det, row: (frame.ax * dy - frame.ay * dx) / det };
}

/** Pixel rectangle covering a local rectangle, clipped to the image. */
export function pixelRect(frame: Frame, x0: number, y0: number, x1: number, y1: number, width: number, height: number): PixelRect | undefined {
  const corners = [toPixel(frame, x0, y0), toPixel(frame, x1, y0), toPixel(frame, x0, y1), toPixel(frame, x1, y1)];
  const cols = corners.map((c) => c.col);
  const rows = corners.map((c) => c.row);
  const rect = {
    x0: Math.max(0, Math.floor(Math.min(...cols)) - 1),
    y0: Math.max(0, Math.floor(Math.min(...rows)) - 1),
    x1: Math.min(width, Math.ceil(Math.max(...cols)) + 2),
    y1: Math.min(height, Math.ceil(Math.max(...rows)) + 2),
  };
  return rect.x0 < rect.x1 && rect.y0 < rect.y1 ? rect : undefined;
}

/** Millimetres per pixel of a frame (its scale; rotation does not change it). */
export function frameSpacing(frame: Frame): number {
  return Math.hypot(frame.ax, frame.ay);
}
