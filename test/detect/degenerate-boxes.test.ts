import { imageBox, letterbox, MIN_BOX_SIDE_PX, unletterboxBox } from '../../server/src/pipeline/letterbox';
import { imageWithBrightBoxes } from '../support/test-detector';

describe('boxes that clip to a sliver of the image', () => {
  // 1000 x 700 into 640: scale 0.64, 640 x 448, 96 rows of padding above and below.
  const geometry = () => letterbox(imageWithBrightBoxes(1000, 700, []), 640, 0);

  it('drops a box in the padding that clips to 155 x 0 px at the image edge', async () => {
    const boxed = await geometry();
    expect(boxed.padTop).toBe(96);
    const inPadding = { x: 100, y: 40, width: 155 * 0.64, height: 56 };
    expect(unletterboxBox(inPadding, boxed)).toEqual({ x: 100 / 0.64, y: 0, width: expect.closeTo(155, 6), height: 0 });
    expect(imageBox(inPadding, boxed)).toBeUndefined();
  });

  it('drops a box less than two pixels high after clipping and keeps one of two pixels', async () => {
    const boxed = await geometry();
    const endingAt = (rows: number) => ({ x: 100, y: 40, width: 99.2, height: 56 + rows * 0.64 });
    expect(imageBox(endingAt(MIN_BOX_SIDE_PX - 0.5), boxed)).toBeUndefined();
    expect(imageBox(endingAt(MIN_BOX_SIDE_PX), boxed)).toMatchObject({ y: 0, height: expect.closeTo(MIN_BOX_SIDE_PX, 6), width: expect.closeTo(155, 6) });
  });

  it('drops a box narrower than two pixels at the right edge', async () => {
    const boxed = await geometry();
    const atRightEdge = { x: 639.5, y: 200, width: 30, height: 50 };
    expect(unletterboxBox(atRightEdge, boxed).width).toBeCloseTo(0.5 / 0.64, 6);
    expect(imageBox(atRightEdge, boxed)).toBeUndefined();
  });
});
