/**
 * Presentation LUT Shape (2050,0020) on a real radiograph. RG3 is stored MONOCHROME1 with window
 * 550 / 1024 (10 bits); its twins say the same thing in the other ways DICOM allows, and must
 * convert to the same 8-bit image, bone bright:
 * - MONOCHROME2 with every stored value inverted (1023 - v) and the window mirrored (474),
 * - MONOCHROME1 with the shape INVERSE (as DX images carry it): inverted once, not twice,
 * - MONOCHROME2 with the shape INVERSE over the original values.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as dicomParser from 'dicom-parser';
import { readPart10Image } from '../../server/src/dicom/part10';
import { TAG } from '../../server/src/dicom/tags';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import type { Gray8Image } from '../../server/src/imaging/gray8';
import { insertString, patchStrings } from '../support/dicom-patch';
import { SHARED_DICOM } from '../support/shared-data';

const rg3 = new Uint8Array(readFileSync(path.join(SHARED_DICOM, 'RG3_512_explicitLE.dcm')));
const BITS_STORED = 10;

const withShape = (file: Uint8Array, shape: string) => insertString(file, TAG.PresentationLUTShape, 'CS', shape);
const asMonochrome2 = (file: Uint8Array) => patchStrings(file, { [TAG.PhotometricInterpretation]: 'MONOCHROME2' });

/** The same radiograph stored MONOCHROME2: each value v becomes max - v, the window centre c becomes max + 1 - c. */
function invertedMonochrome2Twin(file: Uint8Array): Uint8Array {
  const max = 2 ** BITS_STORED - 1;
  const center = readPart10Image(file).header.windows[0]?.center;
  if (center === undefined) throw new Error('the file has no window');
  const twin = patchStrings(asMonochrome2(file), { [TAG.WindowCenter]: String(max + 1 - center) });
  const pixels = dicomParser.parseDicom(twin).elements[TAG.PixelData];
  if (!pixels) throw new Error('no pixel data');
  const view = new DataView(twin.buffer, twin.byteOffset + pixels.dataOffset, pixels.length);
  for (let i = 0; i + 1 < pixels.length; i += 2) view.setUint16(i, max - (view.getUint16(i, true) & max), true);
  return twin;
}

const negative = (image: Gray8Image): Gray8Image => ({ ...image, data: image.data.map((v) => 255 - v) });

function largestDifference(a: Gray8Image, b: Gray8Image): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs((a.data[i] ?? 0) - (b.data[i] ?? 0)));
  return worst;
}

describe('the Presentation LUT Shape of a real radiograph', () => {
  let reference: Gray8Image;
  beforeAll(async () => {
    reference = await decodeForDetector(rg3);
  });

  it('reads the shape from the header, and none when the image states none', () => {
    expect(readPart10Image(rg3).header.presentationLutShape).toBeUndefined();
    expect(readPart10Image(withShape(rg3, 'INVERSE')).header.presentationLutShape).toBe('INVERSE');
  });

  it('converts the MONOCHROME2 twin with inverted values to the MONOCHROME1 original, within one grey level', async () => {
    const twin = await decodeForDetector(invertedMonochrome2Twin(rg3));
    expect(largestDifference(twin, reference)).toBeLessThanOrEqual(1);
  });

  it('inverts a MONOCHROME1 image carrying INVERSE once, not twice', async () => {
    const image = await decodeForDetector(withShape(rg3, 'INVERSE'));
    expect(largestDifference(image, reference)).toBe(0);
  });

  it('inverts a MONOCHROME2 image carrying INVERSE, so that bone is bright', async () => {
    const [plain, inverse] = await Promise.all([decodeForDetector(asMonochrome2(rg3)), decodeForDetector(withShape(asMonochrome2(rg3), 'INVERSE'))]);
    // Without the shape these values show bone dark: the shape is what makes them right.
    expect(largestDifference(plain, negative(reference))).toBe(0);
    expect(largestDifference(inverse, reference)).toBe(0);
  });

  it('changes nothing with IDENTITY on a MONOCHROME2 image', async () => {
    const twin = invertedMonochrome2Twin(rg3);
    const [plain, identity] = await Promise.all([decodeForDetector(twin), decodeForDetector(withShape(twin, 'IDENTITY'))]);
    expect(largestDifference(identity, plain)).toBe(0);
  });
});
