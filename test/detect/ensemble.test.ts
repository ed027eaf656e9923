import { loadManifest } from '../../server/src/model/manifest';
import { EnsembleDetector, type DetectTiming } from '../../server/src/pipeline/detect';
import { imageWithBrightBoxes, TEST_DETECTOR_MANIFEST } from '../support/test-detector';

describe('the ensemble on the test detector', () => {
  let detector: EnsembleDetector;
  beforeAll(async () => {
    detector = await EnsembleDetector.load(await loadManifest(TEST_DETECTOR_MANIFEST), { executionProvider: 'cpu', cpuThreads: 1, warn: () => undefined });
  });
  afterAll(() => detector.release());

  // Upper lesion in the top half, lower lesion in the bottom half of a wide image (letterboxed
  // with padding above and below), and a tall image (padding left and right).
  const wideLesions = [
    { x: 100, y: 100, width: 200, height: 100 },
    { x: 640, y: 450, width: 120, height: 80 },
  ];
  const tall = { width: 600, height: 1100, lesion: { x: 350, y: 120, width: 150, height: 260 } };

  it('finds each bright box in original pixels after letterbox, TTA and the merge', async () => {
    const timing: DetectTiming = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, runs: [] };
    const [wide, tallView] = await detector.detect(
      [imageWithBrightBoxes(1000, 700, wideLesions), imageWithBrightBoxes(tall.width, tall.height, [tall.lesion])],
      timing,
    );
    expect(wide).toHaveLength(2);
    const [upper, lower] = [...(wide ?? [])].sort((a, b) => a.y - b.y);
    for (const [found, truth] of [[upper, wideLesions[0]], [lower, wideLesions[1]]] as const) {
      expect(found?.x).toBeCloseTo(truth!.x, -0.5);
      expect(found?.y).toBeCloseTo(truth!.y, -0.5);
      expect(found?.width).toBeCloseTo(truth!.width, -0.5);
      expect(found?.height).toBeCloseTo(truth!.height, -0.5);
      expect(found?.confidence).toBeCloseTo(0.9, 5);
      expect(found?.foldCount).toBe(5);
    }
    // The fifth fold does not see the bottom half.
    expect(upper?.foldsAgreeing).toBe(5);
    expect(lower?.foldsAgreeing).toBe(4);
    expect(tallView).toHaveLength(1);
    expect(tallView?.[0]).toMatchObject({ foldsAgreeing: 5 });
    for (const key of ['x', 'y', 'width', 'height'] as const) expect(Math.abs((tallView?.[0]?.[key] ?? 0) - tall.lesion[key])).toBeLessThan(2.5);
    // 5 folds x 3 TTA passes, both views in one batch per pass.
    expect(timing.runs).toHaveLength(15);
    expect(timing.runs.every((r) => r.batch === 2)).toBe(true);
  });

  it.each([
    { scale: 1, flipLeftRight: true },
    { scale: 0.83, flipLeftRight: true },
    { scale: 0.67, flipLeftRight: false },
  ])('maps the boxes of a single TTA pass %o back onto the lesion', async (pass) => {
    const model = await loadManifest(TEST_DETECTOR_MANIFEST);
    const onePass = { ...model, manifest: { ...model.manifest, tta: { ...model.manifest.tta, passes: [pass] } } };
    const single = await EnsembleDetector.load(onePass, { executionProvider: 'cpu', cpuThreads: 1, warn: () => undefined });
    try {
      const [boxes] = await single.detect([imageWithBrightBoxes(1000, 700, wideLesions)]);
      const sorted = [...(boxes ?? [])].sort((a, b) => a.y - b.y);
      expect(sorted).toHaveLength(2);
      // Bilinear resizing blurs each edge by about a pixel of the pass, i.e. 1.6 / scale here.
      const tolerance = 1.6 / pass.scale + 0.5;
      sorted.forEach((found, i) => {
        for (const key of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(found[key] - wideLesions[i]![key])).toBeLessThan(tolerance);
      });
    } finally {
      await single.release();
    }
  });

  it('finds nothing on an empty radiograph', async () => {
    const [boxes] = await detector.detect([imageWithBrightBoxes(800, 800, [])]);
    expect(boxes).toEqual([]);
  });

  it('gives the same boxes for a view alone as in a batch', async () => {
    const image = imageWithBrightBoxes(1000, 700, wideLesions);
    const [alone] = await detector.detect([image]);
    const [batched] = await detector.detect([image, imageWithBrightBoxes(500, 500, [])]);
    expect(batched).toEqual(alone);
  });
});
