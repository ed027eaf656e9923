/**
 * Reads a DICOM Part 10 file (the WADO-RS instance or a file on disk): its image header and the
 * encoded bytes of its one frame. dicom-parser reads lazily, so a header-only read is cheap.
 */
import { inflateRawSync } from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import type { ImageLimits } from '../config';
import { asKneeTumorError, KneeTumorError } from '../errors';
import { checkImageHeader, checkNativeLength, DEFAULT_IMAGE_LIMITS, nativeFrameBytes } from './integrity';
import { TAG, TRANSFER_SYNTAX } from './tags';
import type { ImageHeader, LookupTable, PresentationLutShape, VoiLutFunction } from './image-header';

export interface Part10Image {
  header: ImageHeader;
  /** The frame as stored: native pixels or the encapsulated (compressed) stream. */
  encodedFrame: Uint8Array;
}

/** dicom-parser's DataSet constructor, which its type definitions leave out. */
const DataSet = (
  dicomParser as unknown as {
    DataSet: new (parser: dicomParser.ByteArrayParser, byteArray: Uint8Array, elements: Record<string, dicomParser.Element>) => dicomParser.DataSet;
  }
).DataSet;

/** The meta header as dicom-parser reads it: `position` is where the data set starts. */
type MetaHeader = dicomParser.DataSet & { position: number };

/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5): the data set after the meta header inflated,
 * then parsed from where the meta header ends. dicom-parser's own deflate path parses the
 * inflated bytes from byte 0, through the preamble, which only works when the preamble is zeros;
 * the preamble may hold anything (PS3.10 7.1), a TIFF header in dual-format files. The bytes
 * before the data set are kept as they are, so the meta header's elements keep their offsets.
 */
function parseDeflated(bytes: Uint8Array, meta: MetaHeader, untilTag: string | undefined, maxInflatedBytes: number): dicomParser.DataSet {
  let inflated: Uint8Array;
  try {
    // zlib stops once the output passes the limit: a small file hiding gigabytes is never inflated.
    inflated = inflateRawSync(bytes.subarray(meta.position), { maxOutputLength: maxInflatedBytes });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new KneeTumorError(
        'image-too-large',
        `the deflated data set inflates to more than the limit analysis.imageLimits.maxInflatedBytes (${maxInflatedBytes} bytes) from ${bytes.length - meta.position} bytes`,
        { cause },
      );
    }
    throw new KneeTumorError('dicom-unreadable', `the deflated data set cannot be inflated: ${parserReason(cause)}`, { cause });
  }
  const full = new Uint8Array(meta.position + inflated.length);
  full.set(bytes.subarray(0, meta.position));
  full.set(inflated, meta.position);
  const stream = new dicomParser.ByteStream(dicomParser.littleEndianByteArrayParser, full, meta.position);
  const dataSet = new DataSet(stream.byteArrayParser, full, {});
  dataSet.warnings = stream.warnings;
  dicomParser.parseDicomDataSetExplicit(dataSet, stream, full.length, untilTag ? { untilTag } : undefined);
  Object.assign(dataSet.elements, meta.elements);
  return dataSet;
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }` when a data set breaks off. */
function parserReason(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  const exception = (cause as { exception?: unknown } | null)?.exception;
  return exception === undefined ? 'unknown parser error' : parserReason(exception);
}

/** Whether the bytes begin as a DICOM Part 10 file does: the DICM prefix after the 128-byte preamble. */
export function hasPart10Prefix(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
}

/**
 * Parses a Part 10 file; a file that is not DICOM is refused with the parser's reason. A deflated
 * data set inflates to at most maxInflatedBytes (the default limit when the caller has none).
 */
export function parsePart10(bytes: Uint8Array, options: { headerOnly?: boolean; maxInflatedBytes?: number } = {}): dicomParser.DataSet {
  if (!hasPart10Prefix(bytes)) {
    throw new KneeTumorError('dicom-unreadable', 'not a DICOM Part 10 file (no DICM prefix at byte 128)');
  }
  const untilTag = options.headerOnly ? TAG.PixelData : undefined;
  try {
    const meta = dicomParser.readPart10Header(bytes) as MetaHeader;
    if (transferSyntaxOf(meta) === TRANSFER_SYNTAX.DeflatedExplicitVRLittleEndian) return parseDeflated(bytes, meta, untilTag, options.maxInflatedBytes ?? DEFAULT_IMAGE_LIMITS.maxInflatedBytes);
    return dicomParser.parseDicom(bytes, untilTag ? { untilTag } : {});
  } catch (cause) {
    throw asKneeTumorError(cause, 'dicom-unreadable', `the DICOM file cannot be parsed: ${parserReason(cause)}`);
  }
}

/** The transfer syntax a data set is encoded in (Implicit VR Little Endian when unstated). */
function transferSyntaxOf(dataSet: dicomParser.DataSet): string {
  return dataSet.string(TAG.TransferSyntaxUID) ?? TRANSFER_SYNTAX.ImplicitVRLittleEndian;
}

/** The transfer syntax of a Part 10 file, from its header alone. */
export function storedTransferSyntax(bytes: Uint8Array): string {
  return transferSyntaxOf(parsePart10(bytes, { headerOnly: true }));
}

function parseNumbers(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .split('\\')
    .map((v) => Number.parseFloat(v))
    .filter((v) => Number.isFinite(v));
}

function required(dataSet: dicomParser.DataSet, tag: string, name: string): number {
  const value = dataSet.uint16(tag);
  if (value === undefined) throw new KneeTumorError('pixel-data-invalid', `the image has no ${name}`);
  return value;
}

function readLut(item: dicomParser.DataSet, pixelRepresentation: 0 | 1, name: string): LookupTable {
  const descriptor = item.elements[TAG.LUTDescriptor];
  const dataElement = item.elements[TAG.LUTData];
  if (!descriptor || !dataElement || descriptor.length < 6) {
    throw new KneeTumorError('pixel-data-invalid', `the ${name} has no usable LUT Descriptor or LUT Data`);
  }
  const entries = item.uint16(TAG.LUTDescriptor, 0) || 65536;
  // The first mapped value is signed when the pixels are (PS3.3 C.11.1.1.1).
  const firstMapped = pixelRepresentation === 1 ? (item.int16(TAG.LUTDescriptor, 1) ?? 0) : (item.uint16(TAG.LUTDescriptor, 1) ?? 0);
  const bitsPerEntry = item.uint16(TAG.LUTDescriptor, 2) ?? 16;
  const data = new Uint16Array(entries);
  const bytesPerEntry = dataElement.length >= entries * 2 ? 2 : 1;
  if (dataElement.length < entries * bytesPerEntry) {
    throw new KneeTumorError('pixel-data-invalid', `the ${name} holds fewer entries than its descriptor says`);
  }
  for (let i = 0; i < entries; i++) {
    data[i] = bytesPerEntry === 2 ? (item.uint16(TAG.LUTData, i) ?? 0) : (item.byteArray[dataElement.dataOffset + i] ?? 0);
  }
  return { firstMapped, bitsPerEntry, data };
}

function firstItem(dataSet: dicomParser.DataSet, tag: string): dicomParser.DataSet | undefined {
  return dataSet.elements[tag]?.items?.[0]?.dataSet;
}

function voiLutFunction(value: string | undefined): VoiLutFunction {
  const normalised = value?.trim().toUpperCase();
  return normalised === 'SIGMOID' || normalised === 'LINEAR_EXACT' ? normalised : 'LINEAR';
}

function presentationLutShape(value: string | undefined): PresentationLutShape | undefined {
  const normalised = value?.trim().toUpperCase();
  return normalised === 'IDENTITY' || normalised === 'INVERSE' ? normalised : undefined;
}

export function readImageHeader(dataSet: dicomParser.DataSet): ImageHeader {
  const pixelRepresentation = dataSet.uint16(TAG.PixelRepresentation) === 1 ? 1 : 0;
  const bitsAllocated = required(dataSet, TAG.BitsAllocated, 'Bits Allocated');
  const modalityLutItem = firstItem(dataSet, TAG.ModalityLUTSequence);
  const voiLutItem = firstItem(dataSet, TAG.VOILUTSequence);
  const centers = parseNumbers(dataSet.string(TAG.WindowCenter));
  const widths = parseNumbers(dataSet.string(TAG.WindowWidth));
  const slope = parseNumbers(dataSet.string(TAG.RescaleSlope))[0];
  const intercept = parseNumbers(dataSet.string(TAG.RescaleIntercept))[0];
  return {
    transferSyntaxUid: transferSyntaxOf(dataSet),
    sopClassUid: dataSet.string(TAG.SOPClassUID) ?? '',
    modality: dataSet.string(TAG.Modality)?.toUpperCase() ?? '',
    rows: required(dataSet, TAG.Rows, 'Rows'),
    columns: required(dataSet, TAG.Columns, 'Columns'),
    samplesPerPixel: dataSet.uint16(TAG.SamplesPerPixel) ?? 1,
    photometricInterpretation: dataSet.string(TAG.PhotometricInterpretation)?.toUpperCase() ?? 'MONOCHROME2',
    numberOfFrames: dataSet.intString(TAG.NumberOfFrames) ?? 1,
    bitsAllocated,
    bitsStored: dataSet.uint16(TAG.BitsStored) ?? bitsAllocated,
    highBit: dataSet.uint16(TAG.HighBit) ?? bitsAllocated - 1,
    pixelRepresentation,
    rescaleSlope: slope ?? 1,
    rescaleIntercept: intercept ?? 0,
    modalityLut: modalityLutItem ? readLut(modalityLutItem, pixelRepresentation, 'Modality LUT Sequence') : undefined,
    windows: centers.slice(0, widths.length).map((center, i) => ({ center, width: widths[i] ?? 0 })),
    voiLutFunction: voiLutFunction(dataSet.string(TAG.VOILUTFunction)),
    // The VOI LUT's first mapped value refers to modality values, which are signed when rescaled.
    voiLut: voiLutItem ? readLut(voiLutItem, 1, 'VOI LUT Sequence') : undefined,
    presentationLutShape: presentationLutShape(dataSet.string(TAG.PresentationLUTShape)),
  };
}

/** The one frame, all fragments joined: whatever they hold beyond one image, the codec checks refuse. */
function encapsulatedFrame(dataSet: dicomParser.DataSet, element: dicomParser.Element): Uint8Array {
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new KneeTumorError('pixel-data-invalid', 'the encapsulated pixel data has no fragments');
  try {
    return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, 0, fragments.length);
  } catch (cause) {
    throw new KneeTumorError('pixel-data-invalid', 'the encapsulated pixel data cannot be read', { cause });
  }
}

function nativeFrame(dataSet: dicomParser.DataSet, element: dicomParser.Element, header: ImageHeader): Uint8Array {
  const present = dataSet.byteArray.length - element.dataOffset;
  if (element.length > present) {
    throw new KneeTumorError('pixel-data-invalid', `the file ends ${element.length - present} bytes into its ${element.length}-byte pixel data (truncated file)`);
  }
  checkNativeLength(header, element.length);
  return dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + nativeFrameBytes(header));
}

/**
 * Header and frame of a Part 10 file, the header checked for consistency and against the limits
 * before any pixels are touched: a radiograph has one frame, an image with more is refused.
 */
export function readPart10Image(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Part10Image {
  const dataSet = parsePart10(bytes, { maxInflatedBytes: limits.maxInflatedBytes });
  const header = readImageHeader(dataSet);
  checkImageHeader(header, limits);
  const element = dataSet.elements[TAG.PixelData];
  if (!element) throw new KneeTumorError('pixel-data-invalid', 'the DICOM file has no pixel data (not an image?)');
  const encodedFrame = element.encapsulatedPixelData
    ? encapsulatedFrame(dataSet, element)
    : nativeFrame(dataSet, element, header);
  return { header, encodedFrame };
}
