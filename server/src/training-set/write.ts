/**
 * Writes a training set: each DICOM image converted by the pipeline's own decodeForDetector (so
 * the training pixels are exactly those the detector sees at inference, before the letterbox), each
 * JPEG/PNG picture made gray (picture.ts), as an 8-bit grayscale PNG, and labels.json, the
 * contract models/training/dataset.py reads.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import type { PixelBox, ViewName } from '../domain/analysis';
import { KneeTumorError } from '../errors';
import { boxOutside } from '../evaluation/inputs/validate';
import type { Gray8Image } from '../imaging/gray8';
import { decodeForDetector } from '../pipeline/fetch-images';
import type { TrainingItem } from './items';
import { decodePicture } from './picture';

export interface LabelsImage {
  imageId: string;
  patientId: string;
  view: ViewName;
  /** The PNG, relative to labels.json. */
  file: string;
  width: number;
  height: number;
  boxes: PixelBox[];
}

export interface TrainingLabels {
  kind: 'knee-tumor-training-set';
  schemaVersion: 1;
  images: LabelsImage[];
}

/** Image ids become file names: SOP Instance UIDs and the generator's ids are safe as they are. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

async function grayscalePng(image: Gray8Image, file: string): Promise<void> {
  // toColourspace('b-w') keeps one channel: without it sharp writes an RGB PNG.
  await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .toColourspace('b-w')
    .png()
    .toFile(file);
}

async function decodeItem(item: TrainingItem): Promise<Gray8Image> {
  if (item.format === 'picture') return decodePicture(item.file);
  const bytes = await readFile(item.file);
  return decodeForDetector(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export async function writeTrainingSet(items: TrainingItem[], outDir: string, onImage?: (done: number, total: number) => void): Promise<TrainingLabels> {
  const seen = new Set<string>();
  for (const item of items) {
    if (!SAFE_ID.test(item.imageId)) throw new KneeTumorError('bad-request', `image id "${item.imageId}" cannot be a file name`);
    if (seen.has(item.imageId)) throw new KneeTumorError('bad-request', `image id ${item.imageId} appears twice`);
    seen.add(item.imageId);
  }
  await mkdir(path.join(outDir, 'images'), { recursive: true });
  const images: LabelsImage[] = [];
  for (const [index, item] of items.entries()) {
    const image = await decodeItem(item);
    const expected = item.expectedSize;
    if (expected && (expected.width !== image.width || expected.height !== image.height)) {
      throw new KneeTumorError(
        'bad-request',
        `${item.file} is ${image.width} x ${image.height} px but its boxes were drawn on ${expected.width} x ${expected.height}`,
      );
    }
    const outside = item.boxes.findIndex((box) => boxOutside(box, image.width, image.height));
    if (outside >= 0) throw new KneeTumorError('bad-request', `${item.file}: box ${outside} lies outside the ${image.width} x ${image.height} image`);
    const file = `images/${item.imageId}.png`;
    await grayscalePng(image, path.join(outDir, file));
    images.push({ imageId: item.imageId, patientId: item.patientId, view: item.view, file, width: image.width, height: image.height, boxes: item.boxes });
    onImage?.(index + 1, items.length);
  }
  const labels: TrainingLabels = { kind: 'knee-tumor-training-set', schemaVersion: 1, images };
  // labels.json is written last and renamed into place: its presence means the set is complete.
  const partial = path.join(outDir, `labels.json.partial-${process.pid}`);
  await writeFile(partial, `${JSON.stringify(labels)}\n`);
  await rename(partial, path.join(outDir, 'labels.json'));
  return labels;
}
