/**
 * Test helper: reads a phantom's DICOM bytes with dicom-parser and presents them as the method
 * does (modality LUT, the image's own linear window, 8 bits, MONOCHROME1 inverted).
 */
import * as dicomParser from 'dicom-parser';

export interface Presented {
  dataSet: dicomParser.DataSet;
  width: number;
  height: number;
  /** 8-bit presentation, bone bright. */
  gray: Uint8Array;
}

export function parse(bytes: Uint8Array): dicomParser.DataSet {
  return dicomParser.parseDicom(bytes);
}

export function storedPixels(dataSet: dicomParser.DataSet): Uint16Array {
  const element = dataSet.elements.x7fe00010;
  if (!element) throw new Error('no pixel data');
  const bytes = dataSet.byteArray.slice(element.dataOffset, element.dataOffset + element.length);
  return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
}

export function present(bytes: Uint8Array): Presented {
  const dataSet = parse(bytes);
  const width = dataSet.uint16('x00280011') ?? 0;
  const height = dataSet.uint16('x00280010') ?? 0;
  const slope = dataSet.floatString('x00281053') ?? 1;
  const intercept = dataSet.floatString('x00281052') ?? 0;
  const center = dataSet.floatString('x00281050') ?? 0;
  const windowWidth = dataSet.floatString('x00281051') ?? 1;
  const invert = dataSet.string('x00280004') === 'MONOCHROME1';
  const stored = storedPixels(dataSet);
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    const value = stored[i]! * slope + intercept;
    const y = ((value - (center - 0.5)) / (windowWidth - 1) + 0.5) * 255;
    const clamped = y < 0 ? 0 : y > 255 ? 255 : y;
    gray[i] = Math.round(invert ? 255 - clamped : clamped);
  }
  return { dataSet, width, height, gray };
}
