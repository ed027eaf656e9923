import { boxesToShow, countBelowThreshold, findingOf, labelCandidates, overlaps, placeLabels, type LayoutRect } from '../../server/src/domain/box-layout';

const bounds = { x: 0, y: 0, width: 600, height: 400 };
const label = { width: 120, height: 20 };
const request = (box: LayoutRect) => ({ box, size: label });

describe('which boxes a picture shows', () => {
  const boxes = [0.31, 0.93, 0.12, 0.62, 0.5].map((confidence, i) => ({ id: `b${i}`, confidence }));

  it('shows only the boxes at or above the threshold by default, the finding first', () => {
    expect(boxesToShow(boxes, 0.5, false).map((b) => b.confidence)).toEqual([0.93, 0.62, 0.5]);
    expect(findingOf(boxes, 0.5)?.id).toBe('b1');
    expect(countBelowThreshold(boxes, 0.5)).toBe(2);
  });

  it('adds those below the threshold on request, after the others', () => {
    expect(boxesToShow(boxes, 0.5, true).map((b) => b.confidence)).toEqual([0.93, 0.62, 0.5, 0.31, 0.12]);
  });

  it('has no finding when no box reaches the threshold', () => {
    expect(findingOf(boxes, 0.95)).toBeUndefined();
    expect(boxesToShow(boxes, 0.95, false)).toEqual([]);
  });
});

describe('placing labels', () => {
  const options = { bounds, reserved: [] as LayoutRect[], gap: 4 };

  it('puts a label above its box, left-aligned', () => {
    expect(placeLabels([request({ x: 200, y: 100, width: 80, height: 60 })], options)).toEqual([{ x: 200, y: 76, ...label }]);
  });

  it('puts it below the box when above would leave the image, and clamps it into the image', () => {
    const [placed] = placeLabels([request({ x: 550, y: 5, width: 40, height: 40 })], options);
    expect(placed).toEqual({ x: 480, y: 49, ...label });
  });

  it('moves a second label off the first, and off the more important box', () => {
    const finding = { x: 200, y: 100, width: 80, height: 60 };
    const neighbour = { x: 210, y: 110, width: 80, height: 60 };
    const [first, second] = placeLabels([request(finding), request(neighbour)], options);
    expect(first).toEqual({ x: 200, y: 76, ...label });
    expect(second && overlaps(second, first!)).toBe(false);
    expect(second && overlaps(second, finding)).toBe(false);
  });

  it('keeps labels off reserved areas such as the footer', () => {
    const footer = { x: 0, y: 340, width: 600, height: 60 };
    const nearBottom = { x: 100, y: 300, width: 60, height: 38 };
    const [placed] = placeLabels([request({ x: 100, y: 0, width: 60, height: 380 }), request(nearBottom)], { ...options, reserved: [footer] });
    expect(placed && overlaps(placed, footer)).toBe(false);
  });

  it('never overlaps two labels, however crowded, and always places the finding', () => {
    const crowd = Array.from({ length: 25 }, (_, i) => ({ x: 250 + (i % 5) * 6, y: 150 + Math.floor(i / 5) * 5, width: 60, height: 50 }));
    const placed = placeLabels(crowd.map(request), options);
    expect(placed[0]).toBeDefined();
    const shown = placed.filter((p): p is LayoutRect => p !== undefined);
    expect(shown.length).toBeGreaterThan(4);
    expect(shown.length).toBeLessThan(crowd.length);
    shown.forEach((a, i) => shown.slice(i + 1).forEach((b) => expect(overlaps(a, b)).toBe(false)));
    for (const p of shown) expect(p.x >= 0 && p.y >= 0 && p.x + p.width <= 600 && p.y + p.height <= 400).toBe(true);
  });

  it('leaves out a label that could only cover the finding', () => {
    const finding = { x: 100, y: 100, width: 300, height: 200 };
    const inside = { x: 150, y: 150, width: 50, height: 50 };
    const [first, second] = placeLabels([request(finding), request(inside)], options);
    expect(first).toBeDefined();
    expect(second).toBeUndefined();
  });

  it('gives no label to a box outside the bounds, nor one larger than them', () => {
    expect(placeLabels([request({ x: 700, y: 100, width: 50, height: 50 })], options)).toEqual([undefined]);
    expect(placeLabels([{ box: { x: 10, y: 10, width: 50, height: 50 }, size: { width: 601, height: 20 } }], options)).toEqual([undefined]);
  });

  it('offers spots above, below, inside and beside the box, all inside the bounds', () => {
    const spots = labelCandidates(request({ x: 200, y: 100, width: 150, height: 120 }), options);
    expect(spots).toHaveLength(8);
    expect(spots.map((s) => [s.x, s.y])).toEqual([
      [200, 76], [200, 224], [230, 76], [230, 224], [204, 104], [204, 196], [76, 100], [354, 100],
    ]);
  });
});
