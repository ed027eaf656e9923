/**
 * Which of a view's boxes a picture shows, in which order, and where their labels go, so that the
 * finding is never buried under sub-threshold boxes. Pure and free of Node modules: the viewer
 * (client/, SVG in the browser) and the annotated PNG (annotate.ts, SVG rendered by sharp) both
 * use it, so that a clinician sees the same layout in either.
 */

/** Top-left corner and size, in whatever pixels the caller draws in. */
export interface LayoutRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ScoredBox {
  confidence: number;
}

/**
 * The boxes to draw, most important first: those at or above the operating threshold by
 * confidence (the first of them is the view's finding), then, only when asked, those below it.
 * Draw in reverse order so that the finding ends on top.
 */
export function boxesToShow<T extends ScoredBox>(boxes: readonly T[], operatingThreshold: number, showBelowThreshold: boolean): T[] {
  const byConfidence = [...boxes].sort((a, b) => b.confidence - a.confidence);
  return showBelowThreshold ? byConfidence : byConfidence.filter((b) => b.confidence >= operatingThreshold);
}

export function countBelowThreshold(boxes: readonly ScoredBox[], operatingThreshold: number): number {
  return boxes.filter((b) => b.confidence < operatingThreshold).length;
}

/** The view's finding: its most confident box at or above the operating threshold. */
export function findingOf<T extends ScoredBox>(boxes: readonly T[], operatingThreshold: number): T | undefined {
  return boxesToShow(boxes, operatingThreshold, false)[0];
}

export interface LabelRequest {
  /** The box the label names. */
  box: LayoutRect;
  /** The label's own size (its text and padding). */
  size: { width: number; height: number };
}

export interface LabelLayoutOptions {
  /** Labels stay inside this area (the image, or the visible part of it). */
  bounds: LayoutRect;
  /** Areas no label may cover: a footer, a legend. */
  reserved: readonly LayoutRect[];
  /** Space between a box and a label outside it. */
  gap: number;
}

export function overlaps(a: LayoutRect, b: LayoutRect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function clampTo(bounds: LayoutRect, r: LayoutRect): LayoutRect {
  const x = Math.max(bounds.x, Math.min(r.x, bounds.x + bounds.width - r.width));
  const y = Math.max(bounds.y, Math.min(r.y, bounds.y + bounds.height - r.height));
  return { ...r, x, y };
}

/**
 * Where a label may go, best first: above the box, below it, inside it, then beside it; each
 * moved into the bounds, and a spot outside the box dropped when that move puts it over the box.
 */
export function labelCandidates(request: LabelRequest, options: LabelLayoutOptions): LayoutRect[] {
  const { box, size } = request;
  const { gap } = options;
  const left = box.x;
  const right = box.x + box.width - size.width;
  const above = box.y - gap - size.height;
  const below = box.y + box.height + gap;
  const outside = [
    { x: left, y: above },
    { x: left, y: below },
    { x: right, y: above },
    { x: right, y: below },
  ];
  const inside = [
    { x: box.x + gap, y: box.y + gap },
    { x: box.x + gap, y: box.y + box.height - gap - size.height },
  ];
  const beside = [
    { x: box.x - gap - size.width, y: box.y },
    { x: box.x + box.width + gap, y: box.y },
  ];
  const place = (p: { x: number; y: number }) => clampTo(options.bounds, { ...p, ...size });
  const clear = (r: LayoutRect) => !overlaps(r, box);
  return [...outside.map(place).filter(clear), ...inside.map(place), ...beside.map(place).filter(clear)];
}

/**
 * Places the labels of `requests`, given most important first (the finding first): each takes its
 * first candidate spot that covers no label already placed, no reserved area and, when it can, no
 * more important box; it never covers the most important box, whose outline must stay visible. A
 * label with no such spot, larger than the bounds or whose box is out of bounds, is left out
 * (undefined): a missing label is better than one that hides the finding.
 */
export function placeLabels(requests: readonly LabelRequest[], options: LabelLayoutOptions): (LayoutRect | undefined)[] {
  const placed: LayoutRect[] = [];
  return requests.map((request, index) => {
    const { bounds } = options;
    if (!overlaps(request.box, bounds) || request.size.width > bounds.width || request.size.height > bounds.height) return undefined;
    const moreImportant = requests.slice(0, index).map((r) => r.box);
    const taken = [...options.reserved, ...placed, ...moreImportant.slice(0, 1)];
    const free = (spot: LayoutRect, obstacles: LayoutRect[]) => obstacles.every((o) => !overlaps(spot, o));
    const candidates = labelCandidates(request, options);
    const spot = candidates.find((c) => free(c, [...taken, ...moreImportant])) ?? candidates.find((c) => free(c, taken));
    if (spot) placed.push(spot);
    return spot;
  });
}
