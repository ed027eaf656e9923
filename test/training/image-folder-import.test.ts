/**
 * `knee-tumor training-set --images`: a folder in the layout of the public bone tumor radiograph
 * data set (images/*.jpeg|png, Annotations/*.json LabelMe, dataset.xlsx or a CSV), written here
 * from phantoms, becomes a training set and a reference set that `knee-tumor evaluate` scores.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile, copyFile, access } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import ExcelJS from 'exceljs';
import sharp from 'sharp';
import { generateReferenceSet } from '../../models/phantoms/generate';
import { evaluateCommand } from '../../server/src/cli/evaluate';
import { trainingSetCommand } from '../../server/src/cli/training-set';
import type { PixelBox } from '../../server/src/domain/analysis';
import type { ReferencePatient, ReferenceSet } from '../../server/src/domain/reference';
import type { Evaluation } from '../../server/src/evaluation/evaluate';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import type { ImportSummary } from '../../server/src/training-set/image-folder';
import type { TrainingLabels } from '../../server/src/training-set/write';

const WIDTH = 320;
const HEIGHT = 400;

let dir: string;
let phantoms: ReferenceSet;
/** The patient whose lateral radiograph is left out of the folder. */
let singleView: ReferencePatient;
let stderr: jest.SpyInstance;

/** One radiograph of the folder, as the test wrote it. */
interface Written {
  id: string;
  file: string;
  patient: ReferencePatient;
  view: 'AP' | 'LATERAL';
  boxes: PixelBox[];
  gray: Uint8Array;
}
const written: Written[] = [];

function patientKey(index: number): string {
  return `K${String(index + 1).padStart(3, '0')}`;
}

function rectangle(box: PixelBox): object {
  return { label: 'tumor', shape_type: 'rectangle', points: [[box.x, box.y], [box.x + box.width, box.y + box.height]], group_id: null, flags: {} };
}

/** A polygon whose bounding box is `box`: its corners cut, as a mask outline would be. */
function outline(box: PixelBox): object {
  const { x, y, width: w, height: h } = box;
  const points = [[x + w / 2, y], [x + w, y + h / 3], [x + w, y + (2 * h) / 3], [x + w / 2, y + h], [x, y + h / 2]];
  return { label: 'tumor', shape_type: 'polygon', points, group_id: null, flags: {} };
}

async function labelMe(folder: string, name: string, imagePath: string, shapes: object[], size = { width: WIDTH, height: HEIGHT }): Promise<void> {
  const doc = { version: '5.0.1', flags: {}, shapes, imagePath, imageData: null, imageHeight: size.height, imageWidth: size.width };
  await writeFile(path.join(folder, `${name}.json`), JSON.stringify(doc, null, 2));
}

interface Row {
  image: string;
  patient: string;
  frontal: number;
  lateral: number;
  oblique: number;
  tumor: string | number;
  age: number | string;
  sex: string;
  center: string;
}

const rows: Row[] = [];

function rowOf(w: Written): Row {
  const a = w.patient.attributes ?? {};
  return {
    image: path.basename(w.file),
    patient: patientKey(phantoms.patients.indexOf(w.patient)),
    frontal: w.view === 'AP' ? 1 : 0,
    lateral: w.view === 'LATERAL' ? 1 : 0,
    oblique: 0,
    tumor: w.patient.tumor && w.boxes.length > 0 ? 1 : 0,
    age: a.ageYears ?? '',
    sex: String(a.sex ?? ''),
    center: String(a.center ?? ''),
  };
}

async function writeXlsx(file: string): Promise<void> {
  // The public data set's dataset.xlsx columns (an anatomical site column among them).
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Sheet1');
  sheet.addRow(['image_id', 'center', 'age', 'gender', 'knee-joint', 'tumor', 'frontal', 'lateral', 'oblique']);
  for (const r of rows) sheet.addRow([r.image, r.center, r.age, r.sex, 1, r.tumor, r.frontal, r.lateral, r.oblique]);
  // A radiograph of another site, which --where knee-joint=1 leaves out.
  sheet.addRow(['X07_frontal.png', 'extra', 30, 'M', 0, 0, 1, 0, 0]);
  await workbook.xlsx.writeFile(file);
}

async function writeCsv(file: string): Promise<void> {
  // A site's own export: other column names, one view column, a patient column, a quoted comma.
  const view = (r: Row): string => (r.frontal ? 'AP' : r.lateral ? 'Lateral' : 'Oblique');
  const lines = ['File,Patient,Projection,Tumour,Age,Sex,"Site, centre"', ...rows.map((r) => `${r.image},${r.patient},${view(r)},${r.tumor},${r.age},${r.sex},"${r.center}"`)];
  await writeFile(file, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'image-folder-'));
  phantoms = await generateReferenceSet({ out: path.join(dir, 'dicom'), seed: 21, patients: 8, tumorFraction: 0.5, width: WIDTH, height: HEIGHT });
  const tumorPatients = phantoms.patients.filter((p) => p.tumor);
  const normalPatients = phantoms.patients.filter((p) => !p.tumor);
  if (tumorPatients.length < 3 || normalPatients.length < 3) throw new Error('seed 21 should give at least 3 tumor and 3 normal patients of 8');
  singleView = normalPatients[0] as ReferencePatient;

  const folder = path.join(dir, 'BTXRD');
  const images = path.join(folder, 'images');
  const annotations = path.join(folder, 'Annotations');
  await mkdir(images, { recursive: true });
  await mkdir(annotations, { recursive: true });

  let polygonsOnly = false;
  for (const [p, patient] of phantoms.patients.entries()) {
    for (const image of patient.images) {
      if (patient === singleView && image.view === 'LATERAL') continue;
      if (!image.file) throw new Error('the generator names no DICOM file');
      const decoded = await decodeForDetector(new Uint8Array(await readFile(path.join(dir, 'dicom', image.file))));
      const id = `${patientKey(p)}_${image.view === 'AP' ? 'frontal' : 'lateral'}`;
      // Half the patients as RGB JPEG (as the public set ships), half as 8-bit gray PNG.
      const jpeg = p % 2 === 0;
      const file = path.join(images, `${id}.${jpeg ? 'jpeg' : 'png'}`);
      const raw = sharp(Buffer.from(decoded.data), { raw: { width: decoded.width, height: decoded.height, channels: 1 } });
      await (jpeg ? raw.toColourspace('srgb').jpeg({ quality: 95 }) : raw.toColourspace('b-w').png()).toFile(file);
      const entry: Written = { id, file, patient, view: image.view, boxes: image.boxes, gray: decoded.data };
      written.push(entry);
      rows.push(rowOf(entry));
      if (image.boxes.length === 0) continue;
      // Rectangles plus their mask outline (counted once), and one file of polygons only.
      const shapes = polygonsOnly ? image.boxes.map(outline) : image.boxes.flatMap((b) => [rectangle(b), outline(b)]);
      polygonsOnly = !polygonsOnly;
      await labelMe(annotations, id, `../images/${path.basename(file)}`, shapes);
    }
  }
  const tumorImage = written.find((w) => w.boxes.length > 0 && w.file.endsWith('.png'));
  if (!tumorImage) throw new Error('no PNG tumor image');
  const base = { patient: 'X', frontal: 1, lateral: 0, oblique: 0, tumor: 0, age: 40, sex: 'F', center: 'extra' };
  // An oblique view, a tumor flag that is not a flag, a row whose image is missing, a box outside
  // its image, an annotation of a picture that does not exist, and a picture without a row.
  await copyFile(tumorImage.file, path.join(images, 'X01_oblique.png'));
  rows.push({ ...base, image: 'X01_oblique.png', patient: 'X01', frontal: 0, oblique: 1 });
  await copyFile(tumorImage.file, path.join(images, 'X02_frontal.png'));
  rows.push({ ...base, image: 'X02_frontal.png', patient: 'X02', tumor: 'maybe' });
  rows.push({ ...base, image: 'X03_frontal.jpeg', patient: 'X03' });
  await copyFile(tumorImage.file, path.join(images, 'X04_frontal.png'));
  rows.push({ ...base, image: 'X04_frontal.png', patient: 'X04', tumor: 1 });
  await labelMe(annotations, 'X04_frontal', '../images/X04_frontal.png', [rectangle({ x: WIDTH - 20, y: 10, width: 60, height: 30 })]);
  await labelMe(annotations, 'X05_frontal', '../images/X05_frontal.jpeg', [rectangle({ x: 10, y: 10, width: 20, height: 20 })]);
  await copyFile(tumorImage.file, path.join(images, 'X06_frontal.png'));
  await copyFile(tumorImage.file, path.join(images, 'X07_frontal.png'));

  await writeXlsx(path.join(folder, 'dataset.xlsx'));
  await writeCsv(path.join(folder, 'site.csv'));
}, 120_000);

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

async function json<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

const EXPECTED_SKIPS: [string, RegExp][] = [
  ['X01_oblique', /neither .*frontal.* nor .*lateral/],
  ['X02_frontal', /"maybe", not 1\/0/],
  ['X03_frontal', /is not under/],
  ['X04_frontal', /box 0 of .*X04_frontal\.json lies outside the 320 x 400 image/],
  ['X05_frontal', /annotates "\.\.\/images\/X05_frontal\.jpeg", which is not an image/],
  ['X06_frontal', /has no row for X06_frontal\.png/],
];

function checkImport(summary: ImportSummary, labels: TrainingLabels, reference: ReferenceSet, patientOf: (w: Written) => string, skips: [string, RegExp][]): void {
  // Every radiograph written from a phantom is in the training set with its phantom's boxes.
  expect(labels.images.map((i) => i.imageId).sort()).toEqual(written.map((w) => w.id).sort());
  for (const w of written) {
    const image = labels.images.find((i) => i.imageId === w.id);
    expect(image).toMatchObject({ patientId: patientOf(w), view: w.view, width: WIDTH, height: HEIGHT, file: `images/${w.id}.png` });
    expect(image?.boxes).toEqual(w.boxes);
  }
  // The single-view patient is trained on but is not a study of the reference set.
  expect(summary.singleView).toEqual([{ patientId: patientOf(written.find((w) => w.patient === singleView) as Written), view: 'AP', imageIds: [expect.stringMatching(/_frontal$/)] }]);
  expect(summary.unpaired).toEqual([]);
  const paired = phantoms.patients.filter((p) => p !== singleView);
  expect(summary.pairedStudies).toBe(paired.length);
  expect(reference.patients).toHaveLength(paired.length);
  for (const patient of paired) {
    const views = written.filter((w) => w.patient === patient);
    const imported = reference.patients.find((r) => r.patientId === patientOf(views[0] as Written));
    expect(imported?.tumor).toBe(patient.tumor);
    expect(imported?.images.map((i) => [i.imageId, i.view, i.boxes])).toEqual(views.map((w) => [w.id, w.view, w.boxes]));
    expect(imported?.attributes).toEqual({ ageYears: patient.attributes?.ageYears, sex: patient.attributes?.sex, center: patient.attributes?.center });
  }
  // Each bad input is left out with its reason; nothing else is.
  expect(summary.skipped).toHaveLength(skips.length);
  for (const [item, reason] of skips) {
    const skip = summary.skipped.find((s) => s.item === item || s.item.includes(item) || s.reason.includes(item));
    expect(skip?.reason).toMatch(reason);
  }
  expect(summary.mergedOutlines).toBeGreaterThan(0);
}

it('imports the public data set layout (JPEG/PNG, LabelMe, dataset.xlsx) with patients named by a rule on the image id', async () => {
  const folder = path.join(dir, 'BTXRD');
  const out = path.join(dir, 'from-xlsx');
  const code = await trainingSetCommand([
    '--images', path.join(folder, 'images'),
    '--labelme', path.join(folder, 'Annotations'),
    '--metadata', path.join(folder, 'dataset.xlsx'),
    '--patient-rule', '^([A-Z]\\d+)_',
    '--where', 'knee-joint=1',
    '--out', out,
  ]);
  expect(stderr.mock.calls.join('')).not.toMatch(/error/);
  expect(code).toBe(0);
  const labels = await json<TrainingLabels>(path.join(out, 'labels.json'));
  const summary = await json<ImportSummary>(path.join(out, 'import-summary.json'));
  const reference = await json<ReferenceSet>(path.join(out, 'reference.json'));
  checkImport(summary, labels, reference, (w) => w.id.slice(0, 4), EXPECTED_SKIPS);
  expect(summary.filteredOut).toBe(1);
  expect(stderr.mock.calls.join('')).toMatch(/X01_oblique left out: dataset\.xlsx row \d+: neither frontal nor lateral/);

  // The training PNGs are 8-bit gray: exact for a gray PNG, within JPEG's loss for an RGB JPEG.
  for (const w of [written.find((x) => x.file.endsWith('.png')), written.find((x) => x.file.endsWith('.jpeg'))] as Written[]) {
    if (w.file.endsWith('.jpeg')) expect((await sharp(w.file).metadata()).channels).toBe(3);
    const png = path.join(out, 'images', `${w.id}.png`);
    expect(await sharp(png).metadata()).toMatchObject({ width: WIDTH, height: HEIGHT, channels: 1, depth: 'uchar' });
    const pixels = await sharp(png).extractChannel(0).raw().toBuffer();
    let difference = 0;
    for (let i = 0; i < pixels.length; i++) difference += Math.abs((pixels[i] as number) - (w.gray[i] as number));
    expect(difference / pixels.length).toBeLessThan(w.file.endsWith('.png') ? 1e-9 : 2);
  }
});

it('imports a CSV with other column names and a patient column, and evaluate scores predictions against its reference', async () => {
  const folder = path.join(dir, 'BTXRD');
  const out = path.join(dir, 'from-csv');
  const code = await trainingSetCommand([
    '--images', path.join(folder, 'images'),
    '--labelme', path.join(folder, 'Annotations'),
    '--metadata', path.join(folder, 'site.csv'),
    '--patient-key', 'Patient',
    '--column', 'image=File', '--column', 'view=Projection', '--column', 'tumor=Tumour',
    '--column', 'age=Age', '--column', 'sex=Sex', '--column', 'center=Site, centre',
    '--out', out,
  ]);
  expect(code).toBe(0);
  const reference = await json<ReferenceSet>(path.join(out, 'reference.json'));
  const summary = await json<ImportSummary>(path.join(out, 'import-summary.json'));
  checkImport(summary, await json(path.join(out, 'labels.json')), reference, (w) => w.id.slice(0, 4), [
    ...EXPECTED_SKIPS,
    ['X07_frontal', /has no row for X07_frontal\.png/],
  ]);
  expect(summary.filteredOut).toBe(0);

  // The reference names the training PNGs, so it is itself a source of a training set.
  const again = path.join(dir, 'from-imported-reference');
  expect(await trainingSetCommand(['--reference', path.join(out, 'reference.json'), '--out', again])).toBe(0);
  const reimported = await json<TrainingLabels>(path.join(again, 'labels.json'));
  expect(reimported.images.map((i) => [i.imageId, i.boxes])).toEqual(reference.patients.flatMap((p) => p.images.map((i) => [i.imageId, i.boxes])));

  // Predictions made from the reference: every lesion found a few pixels off, except on one tumor
  // patient, which the model misses; each normal radiograph gets one faint box.
  const tumors = reference.patients.filter((p) => p.tumor);
  const missed = tumors[0] as ReferencePatient;
  const images = reference.patients.flatMap((p) =>
    p.images.map((image) => ({
      imageId: image.imageId,
      boxes: p === missed ? [] : image.boxes.length > 0
        ? image.boxes.map((b) => ({ x: b.x + 3, y: b.y - 2, width: b.width, height: b.height, confidence: 0.9 }))
        : [{ x: 20, y: 30, width: 40, height: 40, confidence: 0.2 }],
    })),
  );
  const predictions = path.join(dir, 'predictions.json');
  await writeFile(predictions, JSON.stringify({ kind: 'knee-tumor-predictions', operatingThreshold: 0.5, images }));
  const evaluationDir = path.join(dir, 'evaluation');
  expect(await evaluateCommand(['--truth', path.join(out, 'reference.json'), '--pred', predictions, '--out', evaluationDir])).toBe(0);
  const evaluation = await json<Evaluation>(path.join(evaluationDir, 'evaluation.json'));
  const normals = reference.patients.length - tumors.length;
  expect(evaluation.dataset.patients).toBe(reference.patients.length);
  expect(evaluation.model.patientLevel.metrics.sensitivity).toMatchObject({ numerator: tumors.length - 1, denominator: tumors.length });
  expect(evaluation.model.patientLevel.metrics.specificity).toMatchObject({ numerator: normals, denominator: normals });
  const lesions = reference.patients.reduce((n, p) => n + p.images.reduce((m, i) => m + i.boxes.length, 0), 0);
  const missedLesions = missed.images.reduce((n, i) => n + i.boxes.length, 0);
  expect(evaluation.model.lesionLevel.localised).toMatchObject({ numerator: lesions - missedLesions, denominator: lesions });
  await access(path.join(evaluationDir, 'report.html'));
});

it('stops on an image named by two rows, and asks how radiographs group into patients', async () => {
  const folder = path.join(dir, 'BTXRD');
  const csv = await readFile(path.join(folder, 'site.csv'), 'utf8');
  const [header, first] = csv.split('\n');
  const duplicated = path.join(dir, 'duplicated.csv');
  await writeFile(duplicated, `${csv}${first}\n`);
  const common = ['--images', path.join(folder, 'images'), '--labelme', path.join(folder, 'Annotations'), '--column', 'image=File', '--column', 'view=Projection', '--column', 'tumor=Tumour'];
  const out = path.join(dir, 'duplicated');
  expect(await trainingSetCommand([...common, '--metadata', duplicated, '--patient-key', 'Patient', '--out', out])).toBe(3);
  expect(stderr.mock.calls.join('')).toMatch(/duplicated\.csv line 2 and duplicated\.csv line \d+ both describe the image K001_frontal\.jpeg/);
  await expect(access(path.join(out, 'labels.json'))).rejects.toThrow();

  expect(header).toContain('Patient');
  expect(await trainingSetCommand([...common, '--metadata', path.join(folder, 'site.csv'), '--out', out])).toBe(2);
  expect(stderr.mock.calls.join('')).toMatch(/--patient-key COLUMN or --patient-rule REGEX/);
});
