/**
 * The CLI's annotated PNG, decoded with sharp: by default only the boxes at or above the operating
 * threshold are drawn, the finding's label is where the layout says and readable (white text on
 * its dark box, nothing of it spilling out), and a demonstration model's notice is in the footer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { DEMONSTRATION_MODEL_NOTICE, type LesionBox, type ModelIdentity, type ViewFinding } from '../../server/src/domain/analysis';
import { annotatedPng, annotationLayout, type AnnotationOptions } from '../../server/src/imaging/annotate';
import { overlaps, type LayoutRect } from '../../server/src/domain/box-layout';
import type { Gray8Image } from '../../server/src/imaging/gray8';
import { sampleAnalysis } from '../support/analysis-fixture';

const SHOTS = path.resolve(__dirname, '../../test-output/imaging');
const SIZE = 512;
const BACKGROUND = 90;
const lesion = (x: number, y: number, width: number, height: number, confidence: number): LesionBox => ({ x, y, width, height, confidence, foldsAgreeing: 3, foldCount: 5 });

// The finding, sub-threshold boxes crowding it, and one far from it.
const finding = lesion(200, 220, 110, 90, 0.93);
const crowd = [lesion(205, 215, 100, 95, 0.41), lesion(190, 230, 120, 70, 0.33), lesion(215, 210, 90, 110, 0.27)];
const far = lesion(40, 40, 80, 60, 0.3);
const view: ViewFinding = { ...sampleAnalysis().views[1]!, imageSize: { width: SIZE, height: SIZE }, boxes: [finding, ...crowd, far], score: 0.93, positive: true };
const clinical = sampleAnalysis();
const demonstration = { ...clinical, model: { ...clinical.model, trainingData: 'synthetic', intendedUse: 'demonstration' } satisfies ModelIdentity };
const image: Gray8Image = { width: SIZE, height: SIZE, data: new Uint8Array(SIZE * SIZE).fill(BACKGROUND) };

async function render(result: typeof clinical, options: AnnotationOptions, name: string) {
  const png = await annotatedPng(image, view, result, options);
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(path.join(SHOTS, `${name}.png`), png);
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const pixel = (x: number, y: number) => [0, 1, 2].map((c) => data[(Math.round(y) * info.width + Math.round(x)) * info.channels + c] ?? -1);
  /** Pixels of `r` (clipped to the image) for which `test` holds. */
  const count = (r: LayoutRect, test: (rgb: number[]) => boolean) => {
    let n = 0;
    for (let y = Math.max(0, Math.ceil(r.y)); y < Math.min(info.height, r.y + r.height); y++) {
      for (let x = Math.max(0, Math.ceil(r.x)); x < Math.min(info.width, r.x + r.width); x++) if (test(pixel(x, y))) n++;
    }
    return n;
  };
  return { info, pixel, count };
}

const white = ([r, g, b]: number[]) => r! > 200 && g! > 200 && b! > 200;
const untouched = ([r, g, b]: number[]) => r === BACKGROUND && g === BACKGROUND && b === BACKGROUND;
/** A box's top edge, where its outline is drawn. */
const topEdge = (b: LesionBox): LayoutRect => ({ x: b.x + 10, y: b.y - 1, width: b.width - 20, height: 3 });

it('draws only the boxes at or above the threshold by default, and the others on request', async () => {
  const shown = await render(clinical, { showBelowThreshold: false }, 'default');
  expect([shown.info.width, shown.info.height]).toEqual([SIZE, SIZE]);
  const edge = topEdge(far);
  expect(shown.count(edge, untouched)).toBe(edge.width * 3);
  expect(shown.count(topEdge(finding), ([r, g, b]) => r! > 200 && g! > 180 && b! < 80)).toBeGreaterThan(finding.width / 2);

  const all = await render(clinical, { showBelowThreshold: true }, 'all-boxes');
  expect(all.count(edge, ([r, g, b]) => r! < 80 && g! > 150 && b! > 200)).toBeGreaterThan(10);
});

it("puts the finding's label on top, readable, and clear of every other label and the footer", async () => {
  const layout = await annotationLayout(SIZE, SIZE, view, clinical, { showBelowThreshold: true });
  const drawn = layout.boxes[layout.boxes.length - 1];
  expect(drawn).toMatchObject({ finding: true, box: finding });
  const label = drawn?.label;
  if (!label) throw new Error('the finding has no label');
  for (const other of layout.boxes.slice(0, -1)) if (other.label) expect(overlaps(other.label, label)).toBe(false);
  expect(overlaps(label, layout.footer)).toBe(false);

  const { count } = await render(clinical, { showBelowThreshold: true }, 'all-boxes');
  const text = count(label, white);
  expect(text).toBeGreaterThan(label.width * label.height * 0.03);
  // The rest of the label's box is its dark background, not a box outline drawn over it.
  expect(count(label, ([r]) => r! < 40) + text).toBeGreaterThan(label.width * label.height * 0.8);
  // The text ends inside its box: nothing white just right of it.
  expect(count({ x: label.x + label.width + 1, y: label.y, width: 12, height: label.height }, white)).toBe(0);
});

it("writes a demonstration model's notice in the footer, not over any label", async () => {
  const options = { showBelowThreshold: true };
  const plain = await annotationLayout(SIZE, SIZE, view, clinical, options);
  const demo = await annotationLayout(SIZE, SIZE, view, demonstration, options);
  expect(plain.footerText.text).not.toContain('Demonstration model');
  expect(demo.footerText.text).toContain(DEMONSTRATION_MODEL_NOTICE);
  expect(demo.footer.height).toBeGreaterThan(plain.footer.height);
  for (const b of demo.boxes) if (b.label) expect(overlaps(b.label, demo.footer)).toBe(false);

  // The rows the notice adds hold white text in the demonstration PNG and none in the other.
  const noticeRows = { x: 0, y: demo.footer.y, width: SIZE, height: plain.footer.y - demo.footer.y };
  const withNotice = await render(demonstration, options, 'demonstration-model');
  const without = await render(clinical, options, 'all-boxes');
  expect(withNotice.count(noticeRows, white)).toBeGreaterThan(200);
  expect(without.count(noticeRows, white)).toBe(0);
});

it('says in the footer how many boxes below the threshold it leaves out', async () => {
  const layout = await annotationLayout(SIZE, SIZE, view, clinical, { showBelowThreshold: false });
  expect(layout.footerText.text).toContain('4 boxes below it not drawn');
  expect(layout.boxes.map((b) => b.box)).toEqual([finding]);
});

it('draws no box on a view outside the model\'s validated domain and says why in the footer', async () => {
  const outside: ViewFinding = { ...view, positive: false, domain: { distance: 40, threshold: 11.7, outside: true } };
  const layout = await annotationLayout(SIZE, SIZE, outside, clinical, { showBelowThreshold: true });
  expect(layout.boxes).toEqual([]);
  expect(layout.footerText.text).toContain("No AI boxes: this view is outside the model's validated domain");
  const inside = await annotationLayout(SIZE, SIZE, { ...view, domain: { distance: 5, threshold: 11.7, outside: false } }, clinical, { showBelowThreshold: true });
  expect(inside.boxes.length).toBe(view.boxes.length);
});
