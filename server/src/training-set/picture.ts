/**
 * JPEG and PNG radiographs (exports of a PACS viewer, public data sets) as the training set's
 * 8-bit gray images. They carry display pixels, so no DICOM windowing applies: colour becomes its
 * luminance, 16-bit gray is scaled to 8 bits over its full range, and the EXIF orientation is
 * applied first, as LabelMe does when the boxes are drawn.
 */
import sharp from 'sharp';
import { KneeTumorError, messageOf } from '../errors';
import type { Gray8Image } from '../imaging/gray8';

export const PICTURE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

function unreadable(file: string, cause: unknown): KneeTumorError {
  return new KneeTumorError('bad-request', `${file} cannot be read as a JPEG or PNG image: ${messageOf(cause)}`, { cause });
}

/** The picture's size as displayed (after its EXIF orientation), read from its header. */
export async function pictureSize(file: string): Promise<{ width: number; height: number }> {
  try {
    const { autoOrient, format } = await sharp(file).metadata();
    if (format !== 'jpeg' && format !== 'png') throw new Error(`it is ${format}`);
    return { width: autoOrient.width, height: autoOrient.height };
  } catch (cause) {
    throw unreadable(file, cause);
  }
}

export async function decodePicture(file: string): Promise<Gray8Image> {
  try {
    const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('b-w').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`${info.channels} channels after conversion to gray`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (cause) {
    throw unreadable(file, cause);
  }
}
