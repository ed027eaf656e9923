/**
 * `knee-tumor training-set`: the training PNGs are the pipeline's own conversion of each DICOM,
 * and the boxes reach labels.json from a reference set, a CSV or LabelMe files.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { generateReferenceSet } from '../../models/phantoms/generate';
import { trainingSetCommand } from '../../server/src/cli/training-set';
import type { ReferenceSet } from '../../server/src/domain/reference';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import type { TrainingLabels } from '../../server/src/training-set/write';

let dir: string;
let reference: ReferenceSet;
let stderr: jest.SpyInstance;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'training-set-'));
  reference = await generateReferenceSet({ out: path.join(dir, 'dicom'), seed: 11, patients: 2, tumorFraction: 0.5, width: 320, height: 400 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  jest.restoreAllMocks();
});

async function labels(out: string): Promise<TrainingLabels> {
  return JSON.parse(await readFile(path.join(out, 'labels.json'), 'utf8')) as TrainingLabels;
}

function patient(index: number): ReferenceSet['patients'][number] {
  const p = reference.patients[index];
  if (!p) throw new Error(`the reference set has no patient ${index}`);
  return p;
}

it('writes each image of a reference set as the detector sees it, with its boxes', async () => {
  const out = path.join(dir, 'from-reference');
  expect(await trainingSetCommand(['--reference', path.join(dir, 'dicom', 'reference.json'), '--out', out])).toBe(0);
  const written = await labels(out);
  const expected = reference.patients.flatMap((p) => p.images.map((i) => ({ imageId: i.imageId, patientId: p.patientId, view: i.view, boxes: i.boxes })));
  expect(written.images.map(({ imageId, patientId, view, boxes }) => ({ imageId, patientId, view, boxes }))).toEqual(expected);
  expect(written.images.some((i) => i.boxes.length > 0)).toBe(true);

  const first = patient(0).images[0];
  if (!first?.file) throw new Error('the generator names no file');
  const decoded = await decodeForDetector(new Uint8Array(await readFile(path.join(dir, 'dicom', first.file))));
  const file = path.join(out, 'images', `${first.imageId}.png`);
  expect(await sharp(file).metadata()).toMatchObject({ width: decoded.width, height: decoded.height, channels: 1, depth: 'uchar' });
  const pixels = await sharp(file).extractChannel(0).raw().toBuffer();
  expect(Buffer.compare(pixels, Buffer.from(decoded.data))).toBe(0);
});

it('takes a site CSV keyed by file path or SOP Instance UID; unannotated views are normal', async () => {
  const p0 = patient(0);
  const p1 = patient(1);
  const ap0 = p0.images.find((i) => i.view === 'AP');
  const lat1 = p1.images.find((i) => i.view === 'LATERAL');
  if (!ap0?.file || !lat1) throw new Error('the generator wrote no AP or lateral view');
  const csv = ['file,x,y,width,height', `${ap0.file},10,20,30,40`, `${ap0.file},100,120,20,25`].join('\n');
  const csvPath = path.join(dir, 'boxes.csv');
  await writeFile(csvPath, `${csv}\n`);
  const byUid = path.join(dir, 'boxes-uid.csv');
  await writeFile(byUid, `imageId,x,y,width,height\n${lat1.imageId},5,6,7,8\n`);

  const out = path.join(dir, 'from-csv');
  expect(await trainingSetCommand(['--dicom', path.join(dir, 'dicom'), '--csv', csvPath, '--out', out])).toBe(0);
  const written = await labels(out);
  expect(written.images).toHaveLength(4);
  const ap = written.images.find((i) => i.imageId === ap0.imageId);
  expect(ap?.boxes).toEqual([{ x: 10, y: 20, width: 30, height: 40 }, { x: 100, y: 120, width: 20, height: 25 }]);
  expect(ap?.patientId).toBe(p0.patientId);
  expect(written.images.filter((i) => i.imageId !== ap0.imageId).every((i) => i.boxes.length === 0)).toBe(true);

  const outUid = path.join(dir, 'from-csv-uid');
  expect(await trainingSetCommand(['--dicom', path.join(dir, 'dicom'), '--csv', byUid, '--out', outUid])).toBe(0);
  expect((await labels(outUid)).images.find((i) => i.imageId === lat1.imageId)?.boxes).toEqual([{ x: 5, y: 6, width: 7, height: 8 }]);
});

it('takes LabelMe files laid out like the DICOM folder, polygons as their bounding box', async () => {
  const p1 = patient(1);
  const labelme = path.join(dir, 'labelme');
  await mkdir(path.join(labelme, p1.patientId), { recursive: true });
  const shapes = [{ label: 'tumor', shape_type: 'polygon', points: [[50, 60], [90, 70], [70, 110]] }];
  await writeFile(path.join(labelme, p1.patientId, 'LAT.json'), JSON.stringify({ shapes, imageWidth: 320, imageHeight: 400, imagePath: 'LAT.png' }));

  const out = path.join(dir, 'from-labelme');
  expect(await trainingSetCommand(['--dicom', path.join(dir, 'dicom'), '--labelme', labelme, '--out', out])).toBe(0);
  const lateral = (await labels(out)).images.find((i) => i.patientId === p1.patientId && i.view === 'LATERAL');
  expect(lateral?.boxes).toEqual([{ x: 50, y: 60, width: 40, height: 50 }]);
});

it('refuses boxes drawn on another image size, and boxes for an image that is not in the folder', async () => {
  const p0 = patient(0);
  const labelme = path.join(dir, 'labelme-resized');
  await mkdir(path.join(labelme, p0.patientId), { recursive: true });
  const shapes = [{ label: 'tumor', shape_type: 'rectangle', points: [[5, 5], [25, 25]] }];
  await writeFile(path.join(labelme, p0.patientId, 'AP.json'), JSON.stringify({ shapes, imageWidth: 160, imageHeight: 200 }));
  expect(await trainingSetCommand(['--dicom', path.join(dir, 'dicom'), '--labelme', labelme, '--out', path.join(dir, 'resized')])).toBe(3);
  expect(stderr.mock.calls.join('')).toMatch(/320 x 400 px but its boxes were drawn on 160 x 200/);

  const csvPath = path.join(dir, 'unknown.csv');
  await writeFile(csvPath, 'imageId,x,y,width,height\n1.2.3.4,1,1,5,5\n');
  expect(await trainingSetCommand(['--dicom', path.join(dir, 'dicom'), '--csv', csvPath, '--out', path.join(dir, 'unknown')])).toBe(3);
  expect(stderr.mock.calls.join('')).toMatch(/no DICOM image .* "1\.2\.3\.4"/);
});
