/**
 * Window/level on the rendered 8-bit image: grey values from centre - width/2 to centre + width/2
 * are stretched over black to white. As a linear transfer on values in 0..1 it is
 * out = slope x in + intercept, which an SVG feComponentTransfer applies exactly.
 */

export interface WindowLevel {
  /** 0..255 */
  centre: number;
  /** 1..255 */
  width: number;
}

/** The PACS's own rendering, unchanged. */
export const FULL_WINDOW: WindowLevel = { centre: 127.5, width: 255 };

export function linearTransfer(w: WindowLevel): { slope: number; intercept: number } {
  const slope = 255 / w.width;
  return { slope, intercept: -((w.centre - w.width / 2) / 255) * slope };
}
