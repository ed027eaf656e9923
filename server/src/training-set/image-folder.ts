/**
 * A folder of JPEG/PNG radiographs with LabelMe boxes and a metadata table (one row per
 * radiograph: image id, view, tumor flag, age, sex, center), the layout of the public bone tumor
 * radiograph data set (Scientific Data 2025: images/, Annotations/, dataset.xlsx) and of
 * LabelMe exports. Each row becomes a training image; each patient's frontal and lateral views
 * become one study of the reference set that `knee-tumor evaluate` reads.
 *
 * Nothing is guessed: a row or picture that cannot be used is left out with its reason (a view
 * that is neither frontal nor lateral, a tumor image without a box, boxes outside the image...),
 * and what cannot be resolved at all (an image named by two rows, two pictures with one id, a
 * column that is not there) stops the import.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { PixelBox, ViewName } from '../domain/analysis';
import type { ReferencePatient, ReferenceSet } from '../domain/reference';
import { KneeTumorError, messageOf } from '../errors';
import { boxOutside, parseReferenceSet } from '../evaluation/inputs/validate';
import type { ImageAnnotation } from './annotations';
import type { TrainingItem } from './items';
import type { MetadataRow, MetadataTable } from './metadata-table';
import { PICTURE_EXTENSIONS, pictureSize } from './picture';

export const METADATA_FIELDS = ['image', 'view', 'frontal', 'lateral', 'tumor', 'age', 'sex', 'center'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

/** The column names of the public data set's dataset.xlsx; `view` is for tables with one view column. */
export const DEFAULT_COLUMNS: Record<MetadataField, string> = {
  image: 'image_id',
  view: 'view',
  frontal: 'frontal',
  lateral: 'lateral',
  tumor: 'tumor',
  age: 'age',
  sex: 'gender',
  center: 'center',
};

/** The views of one patient come from a column of the table, or from a rule on the image id. */
export type PatientGrouping = { kind: 'column'; column: string } | { kind: 'rule'; pattern: RegExp };

export interface ImageFolderInput {
  imagesDirectory: string;
  table: MetadataTable;
  annotations: ImageAnnotation[];
  /** Column names that differ from DEFAULT_COLUMNS. */
  columns: Partial<Record<MetadataField, string>>;
  grouping: PatientGrouping;
  /** When given, only rows with one of these cell values are imported (e.g. knee-joint = 1). */
  where?: { column: string; value: string }[];
}

export interface Skip {
  /** The image id, or the table row or annotation file when no image could be named. */
  item: string;
  reason: string;
}

export interface ImportSummary {
  kind: 'knee-tumor-import-summary';
  schemaVersion: 1;
  images: number;
  patients: number;
  /** Patients with exactly one frontal and one lateral view: the studies of reference.json. */
  pairedStudies: number;
  /** Patients with views of one kind only: trained on, left out of the patient-level reference. */
  singleView: { patientId: string; view: ViewName; imageIds: string[] }[];
  /** Patients with both kinds of view that cannot be made one study. */
  unpaired: { patientId: string; reason: string; imageIds: string[] }[];
  skipped: Skip[];
  /** Rows (and their pictures) that match none of the --where conditions. */
  filteredOut: number;
  /** Polygons dropped as the outline of a rectangle's lesion (annotations.ts). */
  mergedOutlines: number;
}

export interface ImageFolderImport {
  items: TrainingItem[];
  /** Absent when no patient has a frontal and a lateral view. */
  reference?: ReferenceSet;
  summary: ImportSummary;
}

interface Picture {
  file: string;
  /** Path inside the images folder, with "/". */
  relative: string;
  /** The file name without extension: the image id of the training set. */
  imageId: string;
}

interface PlannedImage {
  picture: Picture;
  patientId: string;
  view: ViewName;
  tumor: boolean;
  width: number;
  height: number;
  boxes: PixelBox[];
  attributes: { center?: string; ageYears?: number; sex?: string };
}

class SkipRow extends Error {}

function bad(reason: string): KneeTumorError {
  return new KneeTumorError('bad-request', reason);
}

function withoutExtension(name: string): string {
  return name.replace(/\.[^./]*$/, '');
}

async function scanPictures(directory: string): Promise<Map<string, Picture>> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true, recursive: true });
  } catch (cause) {
    throw new KneeTumorError('bad-request', `cannot read the image folder ${directory}: ${(cause as NodeJS.ErrnoException).code ?? messageOf(cause)}`, { cause });
  }
  const byKey = new Map<string, Picture>();
  const byId = new Map<string, Picture>();
  const pictures = entries
    .filter((e) => e.isFile() && (PICTURE_EXTENSIONS as readonly string[]).includes(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const file of pictures) {
    const relative = path.relative(directory, file).split(path.sep).join('/');
    const picture: Picture = { file, relative, imageId: withoutExtension(path.basename(file)) };
    const earlier = byId.get(picture.imageId);
    if (earlier) throw bad(`${earlier.relative} and ${relative} have the same image id "${picture.imageId}"; rename one`);
    byId.set(picture.imageId, picture);
    for (const key of [relative, withoutExtension(relative), path.basename(file), picture.imageId]) byKey.set(key, picture);
  }
  if (pictures.length === 0) throw bad(`no JPEG or PNG images under ${directory}`);
  return byKey;
}

function lookup(pictures: Map<string, Picture>, name: string): Picture | undefined {
  const normalised = name.replace(/\\/g, '/');
  return pictures.get(normalised) ?? pictures.get(withoutExtension(normalised)) ?? pictures.get(withoutExtension(path.posix.basename(normalised)));
}

/** The picture an annotation is for: its imagePath (relative to the JSON file) when it has one. */
function annotatedPicture(annotation: ImageAnnotation, pictures: Map<string, Picture>, directory: string): Picture | undefined {
  if (annotation.imagePath !== undefined) {
    if (annotation.file) {
      const resolved = path.relative(directory, path.resolve(path.dirname(annotation.file), annotation.imagePath)).split(path.sep).join('/');
      const exact = pictures.get(resolved);
      if (exact) return exact;
    }
    return lookup(pictures, path.posix.basename(annotation.imagePath));
  }
  return annotation.keys.map((key) => lookup(pictures, key)).find((p) => p !== undefined);
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'y']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'n']);

function flag(row: MetadataRow, column: string): boolean {
  const text = (row.cells[column] ?? '').toLowerCase();
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  throw new SkipRow(`${column} is "${row.cells[column] ?? ''}", not 1/0, yes/no or true/false`);
}

const VIEW_WORDS: Record<string, ViewName> = {
  ap: 'AP',
  pa: 'AP',
  frontal: 'AP',
  anteroposterior: 'AP',
  posteroanterior: 'AP',
  lateral: 'LATERAL',
  lat: 'LATERAL',
  ml: 'LATERAL',
  lm: 'LATERAL',
};

type ViewSource = { kind: 'column'; column: string } | { kind: 'flags'; frontal: string; lateral: string };

function viewOf(row: MetadataRow, source: ViewSource): ViewName {
  if (source.kind === 'column') {
    const text = row.cells[source.column] ?? '';
    const view = VIEW_WORDS[text.toLowerCase()];
    if (!view) throw new SkipRow(`${source.column} is "${text}", neither frontal (AP, PA) nor lateral`);
    return view;
  }
  const frontal = flag(row, source.frontal);
  const lateral = flag(row, source.lateral);
  if (frontal && lateral) throw new SkipRow(`both ${source.frontal} and ${source.lateral} are set`);
  if (!frontal && !lateral) throw new SkipRow(`neither ${source.frontal} nor ${source.lateral} is set (another view, e.g. oblique)`);
  return frontal ? 'AP' : 'LATERAL';
}

function patientOf(row: MetadataRow, picture: Picture, grouping: PatientGrouping): string {
  if (grouping.kind === 'column') {
    const key = row.cells[grouping.column] ?? '';
    if (key === '') throw new SkipRow(`${grouping.column} is empty: the image belongs to no patient`);
    return key;
  }
  const match = grouping.pattern.exec(picture.imageId);
  const key = match ? (match[1] ?? match[0]) : '';
  if (key === '') throw new SkipRow(`the patient rule /${grouping.pattern.source}/ does not match the image id`);
  return key;
}

interface Columns {
  image: string;
  tumor: string;
  view: ViewSource;
  age?: string;
  sex?: string;
  center?: string;
}

/** The columns to read; a column named on the command line must exist, a default may be absent. */
function resolveColumns(table: MetadataTable, given: Partial<Record<MetadataField, string>>, grouping: PatientGrouping, name: string): Columns {
  const has = (column: string): boolean => table.headers.includes(column);
  const column = (field: MetadataField): string => given[field] ?? DEFAULT_COLUMNS[field];
  const missing = (columns: string[]): KneeTumorError =>
    bad(`${name} has no column ${columns.map((c) => `"${c}"`).join(' or ')} (its columns: ${table.headers.join(', ')}); name it with --column`);
  for (const field of ['image', 'tumor'] as const) if (!has(column(field))) throw missing([column(field)]);
  const flagsGiven = given.frontal !== undefined || given.lateral !== undefined;
  let view: ViewSource;
  if (given.view !== undefined || (!flagsGiven && has(column('view')) && !(has(column('frontal')) && has(column('lateral'))))) {
    if (!has(column('view'))) throw missing([column('view')]);
    view = { kind: 'column', column: column('view') };
  } else {
    const absent = [column('frontal'), column('lateral')].filter((c) => !has(c));
    if (absent.length > 0) throw missing(flagsGiven ? absent : [...absent, column('view')]);
    view = { kind: 'flags', frontal: column('frontal'), lateral: column('lateral') };
  }
  if (grouping.kind === 'column' && !has(grouping.column)) throw missing([grouping.column]);
  const optional = (field: 'age' | 'sex' | 'center'): string | undefined => {
    if (has(column(field))) return column(field);
    if (given[field] !== undefined) throw missing([column(field)]);
    return undefined;
  };
  const age = optional('age');
  const sex = optional('sex');
  const center = optional('center');
  return { image: column('image'), tumor: column('tumor'), view, ...(age ? { age } : {}), ...(sex ? { sex } : {}), ...(center ? { center } : {}) };
}

function attributesOf(row: MetadataRow, columns: Columns): PlannedImage['attributes'] {
  const attributes: PlannedImage['attributes'] = {};
  if (columns.age && row.cells[columns.age]) {
    const age = Number(row.cells[columns.age]);
    if (!Number.isFinite(age) || age < 0 || age > 130) throw new SkipRow(`${columns.age} is "${row.cells[columns.age]}", not an age in years`);
    attributes.ageYears = age;
  }
  if (columns.sex && row.cells[columns.sex]) attributes.sex = row.cells[columns.sex];
  if (columns.center && row.cells[columns.center]) attributes.center = row.cells[columns.center];
  return attributes;
}

/** The annotation's boxes checked against the picture; edges within the evaluation's tolerance are clamped. */
function checkedBoxes(annotation: ImageAnnotation | undefined, width: number, height: number): PixelBox[] {
  if (!annotation) return [];
  const drawnOn = annotation.size;
  if (drawnOn && (drawnOn.width !== width || drawnOn.height !== height)) {
    throw new SkipRow(`${annotation.origin} was drawn on a ${drawnOn.width} x ${drawnOn.height} image, the picture is ${width} x ${height}`);
  }
  return annotation.boxes.map((box, b) => {
    const x = Math.max(0, box.x);
    const y = Math.max(0, box.y);
    const clamped = { x, y, width: Math.min(width, box.x + box.width) - x, height: Math.min(height, box.y + box.height) - y };
    if (boxOutside(box, width, height) || clamped.width <= 0 || clamped.height <= 0) {
      throw new SkipRow(`box ${b} of ${annotation.origin} lies outside the ${width} x ${height} image`);
    }
    return clamped;
  });
}

function annotationsByPicture(input: ImageFolderInput, pictures: Map<string, Picture>, skipped: Skip[]): Map<string, ImageAnnotation> {
  const byImage = new Map<string, ImageAnnotation>();
  for (const annotation of input.annotations) {
    const picture = annotatedPicture(annotation, pictures, input.imagesDirectory);
    if (!picture) {
      const named = annotation.imagePath ?? annotation.keys[0] ?? '';
      skipped.push({ item: annotation.origin, reason: `it annotates "${named}", which is not an image under ${input.imagesDirectory}` });
      continue;
    }
    const earlier = byImage.get(picture.imageId);
    if (earlier) throw bad(`${earlier.origin} and ${annotation.origin} both annotate ${picture.relative}; keep one`);
    byImage.set(picture.imageId, annotation);
  }
  return byImage;
}

async function planRow(
  row: MetadataRow,
  picture: Picture,
  columns: Columns,
  grouping: PatientGrouping,
  annotation: ImageAnnotation | undefined,
): Promise<PlannedImage> {
  const view = viewOf(row, columns.view);
  const tumor = flag(row, columns.tumor);
  const patientId = patientOf(row, picture, grouping);
  const attributes = attributesOf(row, columns);
  let size: { width: number; height: number };
  try {
    size = await pictureSize(picture.file);
  } catch (error) {
    throw new SkipRow(error instanceof KneeTumorError ? error.reason : String(error));
  }
  const boxes = checkedBoxes(annotation, size.width, size.height);
  if (tumor && boxes.length === 0) throw new SkipRow(`${columns.tumor} says tumor but no LabelMe annotation gives it a lesion box`);
  if (!tumor && boxes.length > 0) throw new SkipRow(`${columns.tumor} says no tumor but ${annotation?.origin} has ${boxes.length} lesion box(es)`);
  return { picture, patientId, view, tumor, ...size, boxes, attributes };
}

function differingAttribute(images: PlannedImage[]): string | undefined {
  return (['sex', 'center'] as const).find((key) => new Set(images.map((i) => i.attributes[key]).filter((v) => v !== undefined)).size > 1);
}

function referencePatient(patientId: string, images: [PlannedImage, PlannedImage]): ReferencePatient {
  const attributes: Record<string, string | number> = {};
  for (const image of images) {
    for (const [key, value] of Object.entries(image.attributes)) if (attributes[key] === undefined && value !== undefined) attributes[key] = value;
  }
  return {
    patientId,
    tumor: images.some((i) => i.tumor),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    // `file` is the training PNG beside reference.json (write.ts names it so).
    images: images.map((i) => ({ imageId: i.picture.imageId, view: i.view, width: i.width, height: i.height, boxes: i.boxes, file: `images/${i.picture.imageId}.png` })),
  };
}

export async function importImageFolder(input: ImageFolderInput, tableName: string): Promise<ImageFolderImport> {
  const directory = path.resolve(input.imagesDirectory);
  const pictures = await scanPictures(directory);
  const columns = resolveColumns(input.table, input.columns, input.grouping, tableName);
  if (input.table.rows.length === 0) throw bad(`${tableName} has no rows`);
  const where = input.where ?? [];
  const absent = where.find((w) => !input.table.headers.includes(w.column));
  if (absent) throw bad(`${tableName} has no column "${absent.column}" to select rows by (its columns: ${input.table.headers.join(', ')})`);
  let filteredOut = 0;
  const skipped: Skip[] = [];
  const annotations = annotationsByPicture({ ...input, imagesDirectory: directory }, pictures, skipped);

  const rowOfImage = new Map<string, string>();
  const planned: PlannedImage[] = [];
  for (const row of input.table.rows) {
    const id = row.cells[columns.image] ?? '';
    const picture = id === '' ? undefined : lookup(pictures, id);
    if (where.length > 0 && !where.some((w) => row.cells[w.column] === w.value)) {
      filteredOut++;
      if (picture) rowOfImage.set(picture.imageId, row.where);
      continue;
    }
    if (!picture) {
      skipped.push({ item: row.where, reason: id === '' ? `${columns.image} is empty` : `its image "${id}" is not under ${directory}` });
      continue;
    }
    const earlier = rowOfImage.get(picture.imageId);
    if (earlier) throw bad(`${earlier} and ${row.where} both describe the image ${picture.relative}`);
    rowOfImage.set(picture.imageId, row.where);
    try {
      planned.push(await planRow(row, picture, columns, input.grouping, annotations.get(picture.imageId)));
    } catch (error) {
      if (!(error instanceof SkipRow)) throw error;
      skipped.push({ item: picture.imageId, reason: `${row.where}: ${error.message}` });
    }
  }
  const listed = new Set<Picture>(pictures.values());
  for (const picture of listed) {
    if (!rowOfImage.has(picture.imageId)) skipped.push({ item: picture.imageId, reason: `${tableName} has no row for ${picture.relative}` });
  }
  if (planned.length === 0) throw bad(`no image of ${directory} can be used: ${skipped.slice(0, 3).map((s) => `${s.item}: ${s.reason}`).join('; ')}`);

  const byPatient = new Map<string, PlannedImage[]>();
  for (const image of planned) byPatient.set(image.patientId, [...(byPatient.get(image.patientId) ?? []), image]);
  const summary: ImportSummary = {
    kind: 'knee-tumor-import-summary',
    schemaVersion: 1,
    images: planned.length,
    patients: byPatient.size,
    pairedStudies: 0,
    singleView: [],
    unpaired: [],
    skipped,
    filteredOut,
    mergedOutlines: [...annotations.values()].reduce((n, a) => n + (a.mergedOutlines ?? 0), 0),
  };
  const patients: ReferencePatient[] = [];
  for (const [patientId, images] of byPatient) {
    const imageIds = images.map((i) => i.picture.imageId);
    const frontal = images.filter((i) => i.view === 'AP');
    const lateral = images.filter((i) => i.view === 'LATERAL');
    const differing = differingAttribute(images);
    if (frontal.length === 0 || lateral.length === 0) {
      summary.singleView.push({ patientId, view: frontal.length > 0 ? 'AP' : 'LATERAL', imageIds });
    } else if (differing) {
      summary.unpaired.push({ patientId, reason: `its images disagree on ${differing}: check the patient grouping`, imageIds });
    } else if (frontal.length > 1 || lateral.length > 1) {
      summary.unpaired.push({ patientId, reason: `${frontal.length} frontal and ${lateral.length} lateral views: which two make one study is not known`, imageIds });
    } else {
      patients.push(referencePatient(patientId, [frontal[0] as PlannedImage, lateral[0] as PlannedImage]));
    }
  }
  summary.pairedStudies = patients.length;

  let reference: ReferenceSet | undefined;
  if (patients.length > 0) {
    reference = {
      kind: 'knee-tumor-reference',
      schemaVersion: 1,
      description: `Imported from ${path.basename(directory)} and ${tableName}: patients with one frontal and one lateral radiograph`,
      patients,
    };
    // The evaluation's own validation: what it refuses is a bug here, not the user's input.
    try {
      parseReferenceSet({ value: reference, where: 'reference.json' });
    } catch (cause) {
      throw new KneeTumorError('internal', `the imported reference set is invalid: ${messageOf(cause)}`, { cause });
    }
  }
  const items: TrainingItem[] = planned.map((image) => ({
    imageId: image.picture.imageId,
    patientId: image.patientId,
    view: image.view,
    file: image.picture.file,
    format: 'picture',
    boxes: image.boxes,
    expectedSize: { width: image.width, height: image.height },
  }));
  return { items, ...(reference ? { reference } : {}), summary };
}
