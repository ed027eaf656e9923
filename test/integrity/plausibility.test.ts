/**
 * The plausibility gate on real pixels: a radiograph with a burned-in shutter still passes, what
 * truncation or a blank leaves is refused with the measured reason.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Gray8Image } from '../../server/src/imaging/gray8';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { assertPlausible, measurePlausibility } from '../../server/src/pipeline/plausibility';
import { SHARED_DICOM } from '../support/shared-data';

let rg3: Gray8Image;

beforeAll(async () => {
  rg3 = await decodeForDetector(new Uint8Array(readFileSync(path.join(SHARED_DICOM, 'RG3_512_explicitLE.dcm'))));
});

function withRows(image: Gray8Image, from: number, to: number, value: number): Gray8Image {
  const data = image.data.slice();
  data.fill(value, from * image.width, to * image.width);
  return { ...image, data };
}

it('passes the real radiograph with a quarter of its height blanked by a burned-in shutter', () => {
  const shuttered = withRows(rg3, 0, 128, 0);
  expect(measurePlausibility(shuttered).identicalRun).toEqual({ first: 0, last: 127 });
  expect(() => assertPlausible(shuttered)).not.toThrow();
});

it('refuses rows that a cut-off frame leaves, saying which', () => {
  expect(() => assertPlausible(withRows(rg3, 307, 512, 0))).toThrow(
    expect.objectContaining({ code: 'image-implausible', reason: 'rows 307-511 (40% of 512) are identical, as a truncated or damaged frame leaves them' }),
  );
});

it('refuses a blank and a nearly constant image with what was measured', () => {
  expect(() => assertPlausible({ ...rg3, data: new Uint8Array(rg3.data.length).fill(128) })).toThrow(
    expect.objectContaining({ code: 'image-implausible', reason: 'the image is blank: its gray levels vary by 0.00 (standard deviation, of 255; a radiograph shows far more)' }),
  );
  // A flat field with sparse bright specks: spread enough, but one gray level nearly everywhere.
  const specks = new Uint8Array(rg3.data.length);
  for (let i = 0; i < specks.length; i += 67) specks[i] = 255;
  expect(() => assertPlausible({ ...rg3, data: specks })).toThrow(
    expect.objectContaining({ code: 'image-implausible', reason: 'the image is nearly constant: 98.5% of its pixels have one gray level' }),
  );
});
