/**
 * The only place where image pixels and screen pixels meet. A radiograph is fitted into its
 * viewport (aspect kept, centred), then zoomed and panned by the user; the image element and every
 * box are placed from the same Transform, so a box stays on its lesion under zoom, pan and resize.
 */

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** Top-left corner and size, in image pixels or in viewport (CSS) pixels. */
export interface Rect extends Point, Size {}

/** What the user changed: zoom relative to the fitted image, pan in viewport pixels. */
export interface ViewState {
  zoom: number;
  panX: number;
  panY: number;
}

/** viewport = image x scale + offset. */
export interface Transform {
  scale: number;
  offsetX: number;
  offsetY: number;
}

export const FITTED: ViewState = { zoom: 1, panX: 0, panY: 0 };
export const ZOOM_MIN = 0.5;
export const ZOOM_MAX = 16;

export function viewTransform(image: Size, viewport: Size, view: ViewState): Transform {
  const fit = Math.min(viewport.width / image.width, viewport.height / image.height);
  const scale = fit * view.zoom;
  return {
    scale,
    offsetX: (viewport.width - image.width * scale) / 2 + view.panX,
    offsetY: (viewport.height - image.height * scale) / 2 + view.panY,
  };
}

export function imageRectToViewport(t: Transform, r: Rect): Rect {
  return { x: r.x * t.scale + t.offsetX, y: r.y * t.scale + t.offsetY, width: r.width * t.scale, height: r.height * t.scale };
}

export function viewportToImage(t: Transform, p: Point): Point {
  return { x: (p.x - t.offsetX) / t.scale, y: (p.y - t.offsetY) / t.scale };
}

/** The CSS transform (with transform-origin 0 0) that puts an image element where `t` says. */
export function imageCssTransform(t: Transform): string {
  return `translate(${t.offsetX}px, ${t.offsetY}px) scale(${t.scale})`;
}

/** Zooms by `factor` keeping the image point under `anchor` (viewport pixels) where it is. */
export function zoomAbout(image: Size, viewport: Size, view: ViewState, factor: number, anchor: Point): ViewState {
  const zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, view.zoom * factor));
  const fixed = viewportToImage(viewTransform(image, viewport, view), anchor);
  const centred = viewTransform(image, viewport, { zoom, panX: 0, panY: 0 });
  return { zoom, panX: anchor.x - fixed.x * centred.scale - centred.offsetX, panY: anchor.y - fixed.y * centred.scale - centred.offsetY };
}

export function panBy(view: ViewState, dx: number, dy: number): ViewState {
  return { ...view, panX: view.panX + dx, panY: view.panY + dy };
}

export function viewportCentre(viewport: Size): Point {
  return { x: viewport.width / 2, y: viewport.height / 2 };
}
