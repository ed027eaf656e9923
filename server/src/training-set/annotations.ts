/**
 * A site's lesion boxes, from a CSV or from LabelMe JSON files, keyed by the image they belong to:
 * its SOP Instance UID or its path (without extension) inside the DICOM folder, or its picture's
 * name. The keys are resolved against the DICOM files in items.ts and against the pictures in
 * image-folder.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { PixelBox } from '../domain/analysis';
import { KneeTumorError, messageOf } from '../errors';

export interface ImageAnnotation {
  /** SOP Instance UID, or a path relative to the DICOM folder (with or without extension); the
   * first key that names an image wins. */
  keys: string[];
  boxes: PixelBox[];
  /** The size of the image the boxes were drawn on, when the annotation says (LabelMe does). */
  size?: { width: number; height: number };
  /** Where the annotation came from, for messages. */
  origin: string;
  /** A LabelMe file's imagePath as written, relative to `file`. */
  imagePath?: string;
  /** The LabelMe file, when the annotation is one. */
  file?: string;
  /** Polygons dropped because a rectangle in the same file outlines the same lesion. */
  mergedOutlines?: number;
}

function bad(origin: string, reason: string): KneeTumorError {
  return new KneeTumorError('bad-request', `${origin}: ${reason}`);
}

function checkedBox(origin: string, x: number, y: number, width: number, height: number): PixelBox {
  if (![x, y, width, height].every(Number.isFinite) || width <= 0 || height <= 0) {
    throw bad(origin, `a box needs finite x, y and a positive width and height, got ${x}, ${y}, ${width}, ${height}`);
  }
  return { x, y, width, height };
}

const CSV_COLUMNS = ['x', 'y', 'width', 'height'] as const;

/**
 * CSV with a header row: `imageId` or `file`, then x, y, width, height in the DICOM image's pixels
 * (top-left corner). One row per lesion; a row with the four numbers empty lists a normal image.
 */
export function parseBoxesCsv(text: string, origin: string): ImageAnnotation[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const [headerLine, ...rows] = lines;
  if (!headerLine) throw bad(origin, 'the CSV is empty');
  const header = headerLine.split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  const keyColumn = header.findIndex((h) => h === 'imageId' || h === 'file');
  const columns = CSV_COLUMNS.map((c) => header.indexOf(c));
  if (keyColumn < 0 || columns.some((c) => c < 0)) {
    throw bad(origin, `the header must name imageId (or file), x, y, width, height; it is "${headerLine}"`);
  }
  const byKey = new Map<string, ImageAnnotation>();
  rows.forEach((line, i) => {
    const where = `${origin} line ${i + 2}`;
    const cells = line.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    const key = cells[keyColumn];
    if (!key) throw bad(where, 'the image column is empty');
    const annotation = byKey.get(key) ?? { keys: [key], boxes: [], origin: where };
    byKey.set(key, annotation);
    const values = columns.map((c) => cells[c] ?? '');
    if (values.every((v) => v === '')) return;
    const [x, y, width, height] = values.map(Number) as [number, number, number, number];
    annotation.boxes.push(checkedBox(where, x, y, width, height));
  });
  return [...byKey.values()];
}

interface LabelMeShape {
  label?: unknown;
  points?: unknown;
  shape_type?: unknown;
}

function isPointList(value: unknown): value is [number, number][] {
  return Array.isArray(value) && value.length >= 2 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number'));
}

function intersectionOverUnion(a: PixelBox, b: PixelBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const overlap = w * h;
  return overlap / (a.width * a.height + b.width * b.height - overlap);
}

/** A polygon whose bounding box overlaps a rectangle this much outlines the rectangle's lesion. */
const SAME_LESION_IOU = 0.5;

/**
 * One LabelMe file: rectangles (two corners) and polygons both become their bounding box; every
 * shape is a tumor (the method has one class). Files that carry both a box and a mask outline per
 * tumor (as the public bone tumor radiograph dataset does) would count each lesion twice: a
 * polygon whose bounding box overlaps a rectangle of the file (IoU >= 0.5) is that rectangle's
 * lesion and is dropped. It annotates the DICOM image whose path matches the file's path inside
 * the annotation folder (`relativeKey`: labelme/<patient>/AP.json annotates dicom/<patient>/AP.dcm),
 * else the one whose SOP Instance UID or path is its imagePath's stem.
 */
export function parseLabelMe(json: unknown, relativeKey: string, origin: string): ImageAnnotation {
  if (!json || typeof json !== 'object') throw bad(origin, 'not a LabelMe JSON object');
  const doc = json as { shapes?: unknown; imageWidth?: unknown; imageHeight?: unknown; imagePath?: unknown };
  if (!Array.isArray(doc.shapes)) throw bad(origin, 'no "shapes" array');
  if (typeof doc.imageWidth !== 'number' || typeof doc.imageHeight !== 'number') throw bad(origin, 'no imageWidth and imageHeight');
  const shapes = (doc.shapes as LabelMeShape[]).map((shape, i) => {
    if (shape.shape_type !== undefined && shape.shape_type !== 'rectangle' && shape.shape_type !== 'polygon') {
      throw bad(origin, `shape ${i} is a ${String(shape.shape_type)}; only rectangles and polygons are boxes`);
    }
    if (!isPointList(shape.points)) throw bad(origin, `shape ${i} has no list of [x, y] points`);
    const xs = shape.points.map((p) => p[0]);
    const ys = shape.points.map((p) => p[1]);
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    return { rectangle: shape.shape_type === 'rectangle', box: checkedBox(`${origin} shape ${i}`, x, y, Math.max(...xs) - x, Math.max(...ys) - y) };
  });
  const rectangles = shapes.filter((s) => s.rectangle).map((s) => s.box);
  const outlines = shapes.filter((s) => !s.rectangle && rectangles.some((r) => intersectionOverUnion(r, s.box) >= SAME_LESION_IOU));
  const boxes = shapes.filter((s) => !outlines.includes(s)).map((s) => s.box);
  const keys = [relativeKey];
  const imagePath = typeof doc.imagePath === 'string' && doc.imagePath !== '' ? doc.imagePath.replace(/\\/g, '/') : undefined;
  if (imagePath) keys.push(imagePath.replace(/^.*\//, '').replace(/\.[^.]*$/, ''));
  return {
    keys,
    boxes,
    size: { width: doc.imageWidth, height: doc.imageHeight },
    origin,
    ...(imagePath ? { imagePath } : {}),
    ...(outlines.length > 0 ? { mergedOutlines: outlines.length } : {}),
  };
}

/** Every LabelMe .json file under a folder, keyed by its path in the folder without extension. */
export async function readLabelMeFolder(folder: string): Promise<ImageAnnotation[]> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true, recursive: true });
  } catch (cause) {
    throw new KneeTumorError('bad-request', `cannot read the LabelMe folder ${folder}: ${(cause as NodeJS.ErrnoException).code ?? messageOf(cause)}`, { cause });
  }
  const files = entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => path.join(e.parentPath, e.name)).sort();
  if (files.length === 0) throw new KneeTumorError('bad-request', `no LabelMe .json files under ${folder}`);
  return Promise.all(
    files.map(async (file) => {
      const key = path.relative(folder, file).split(path.sep).join('/').replace(/\.json$/, '');
      let json: unknown;
      try {
        json = JSON.parse(await readFile(file, 'utf8'));
      } catch (cause) {
        throw new KneeTumorError('bad-request', `${file} is not JSON: ${messageOf(cause)}`, { cause });
      }
      return { ...parseLabelMe(json, key, file), file };
    }),
  );
}
