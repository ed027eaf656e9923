import * as path from 'node:path';
import type { Gray8Image } from '../../server/src/imaging/gray8';
import type { PixelBox } from '../../server/src/domain/analysis';

/** The test detector's manifest: five folds that box the bright pixels of each image half. */
export const TEST_DETECTOR_MANIFEST = path.resolve(__dirname, '../fixtures/test-detector/manifest.json');

/** A black image with white rectangles, the exact lesions the test detector will find. */
export function imageWithBrightBoxes(width: number, height: number, boxes: PixelBox[]): Gray8Image {
  const data = new Uint8Array(width * height);
  for (const b of boxes) {
    for (let y = b.y; y < b.y + b.height; y++) data.fill(255, y * width + b.x, y * width + b.x + b.width);
  }
  return { width, height, data };
}
