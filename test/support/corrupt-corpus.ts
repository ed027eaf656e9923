/**
 * A corpus of damaged DICOM files, as a hospital's test team would make it: from the shared real
 * radiographs (native, RLE, JPEG Lossless SV1, JPEG 2000 lossless and lossy, and JPEG-LS, JPEG
 * baseline and deflated copies of the small one) and a phantom knee (native and JPEG-LS), every
 * class of damage the pipeline must refuse (truncations at several lengths, header/data
 * mismatches, a signed label on unsigned data, several frames, a second image after the stream,
 * blank images, deflate bombs, huge dimensions) and bit flips, of which some cannot be caught.
 */
import { seededRandom } from '../../server/src/evaluation/statistics/random';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createDeflateRaw } from 'node:zlib';
import * as dicomParser from 'dicom-parser';
import { generatePatient, type GeneratedPatient } from '../../models/phantoms/generate';
import { decodeFrame } from '../../server/src/dicom/codecs';
import { readPart10Image } from '../../server/src/dicom/part10';
import { TAG, TRANSFER_SYNTAX as TS } from '../../server/src/dicom/tags';
import type { ErrorCode } from '../../server/src/errors';
import { decodeForDetector } from '../../server/src/pipeline/fetch-images';
import { encodeJpegBaseline, encodeJpegLs } from './codec-encoders';
import { deflateExplicitLittleEndian, metaHeaderFor } from './deflate';
import { insertString, patchStrings } from './dicom-patch';
import { rewriteAttributes } from './dicom-rewrite';
import { SHARED_DICOM } from './shared-data';

export const CORRUPT_CLASSES = [
  'truncated-stream',
  'truncated-file',
  'rows-halved',
  'rows-doubled',
  'one-pixel',
  'rows-zero',
  'bits-allocated-8',
  'bits-stored-0',
  'high-bit-wrong',
  'blank',
  'zero-rows',
  'deflate-bomb',
  'huge-dimensions',
  'too-many-frames',
  'pixel-representation-signed',
  'multi-frame',
  'second-image-appended',
  'bit-flip-header',
  'bit-flip-data',
] as const;
export type CorruptClass = (typeof CORRUPT_CLASSES)[number];

const JPEG_FAMILY: ReadonlySet<string> = new Set([TS.JPEGBaseline8Bit, TS.JPEGLosslessSV1, TS.JPEGLossless, TS.JPEGLSLossless]);

/** Bit flips are measured, not required to fail: a flip may leave a plausible image. */
export const COUNTED_CLASSES: ReadonlySet<CorruptClass> = new Set(['bit-flip-header', 'bit-flip-data']);

/** The codes each class must be refused with (a truncation shows differently per syntax). */
export const EXPECTED_CODES: Record<Exclude<CorruptClass, 'bit-flip-header' | 'bit-flip-data'>, readonly ErrorCode[]> = {
  'truncated-stream': ['pixel-data-invalid', 'dicom-inconsistent', 'dicom-unreadable'],
  'truncated-file': ['pixel-data-invalid', 'dicom-unreadable'],
  'rows-halved': ['dicom-inconsistent'],
  // RLE segments that end before the doubled frame is full read as a truncation.
  'rows-doubled': ['dicom-inconsistent', 'pixel-data-invalid'],
  'one-pixel': ['dicom-inconsistent'],
  'rows-zero': ['dicom-inconsistent'],
  'bits-allocated-8': ['dicom-inconsistent'],
  'bits-stored-0': ['dicom-inconsistent'],
  'high-bit-wrong': ['dicom-inconsistent'],
  blank: ['image-implausible'],
  'zero-rows': ['image-implausible'],
  'deflate-bomb': ['image-too-large'],
  'huge-dimensions': ['image-too-large'],
  'too-many-frames': ['image-too-large'],
  'pixel-representation-signed': ['dicom-inconsistent'],
  'multi-frame': ['dicom-inconsistent'],
  'second-image-appended': ['dicom-inconsistent'],
};

export interface CorruptCase {
  name: string;
  corruption: CorruptClass;
  /** Which intact file it was made from. */
  source: string;
  bytes: Uint8Array;
  /** Made from the phantom knee's AP view: analysable with its intact lateral view. */
  phantom: boolean;
}

/**
 * The phantom patient whose AP view the corpus corrupts (its lateral view stays intact): one whose
 * stored values cross the sign bit, so that a signed label wraps them.
 */
export const PHANTOM = { seed: 32, index: 0, options: { width: 440, height: 560, tumorFraction: 0 } } as const;

export interface Source {
  name: string;
  /** An Explicit VR Little Endian data set (the deflated source before deflating). */
  file: Uint8Array;
  transferSyntax: string;
  /** The first frame as stored: native pixels or one compressed frame. */
  frame: Uint8Array;
  encapsulated: boolean;
  deflated: boolean;
  bitsAllocated: number;
  phantom: boolean;
  /** Horizontal neighbours on either side of half the stored range: where a signed label wraps the values. */
  signBitCrossings: number;
}

type UsKeyword = 'Rows' | 'Columns' | 'BitsAllocated' | 'BitsStored' | 'HighBit' | 'PixelRepresentation' | 'SamplesPerPixel';

function pixelElement(dataSet: dicomParser.DataSet): dicomParser.Element {
  const element = dataSet.elements[TAG.PixelData];
  if (!element) throw new Error('no pixel data');
  return element;
}

function item(tag: number, value: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt16LE(tag, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

function evenLength(bytes: Buffer): Buffer {
  return bytes.length % 2 ? Buffer.concat([bytes, Buffer.alloc(1)]) : bytes;
}

/**
 * Pixel Data (7FE0,0010) as an explicit VR element: native OW/OB frames one after the other, or
 * one encapsulated fragment per frame behind a Basic Offset Table (empty for one frame).
 */
function pixelDataElement(frames: readonly Uint8Array[], encapsulated: boolean, bitsAllocated: number): Buffer {
  const payloads = frames.map((frame) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  const header = Buffer.alloc(12);
  header.writeUInt16LE(0x7fe0, 0);
  header.writeUInt16LE(0x0010, 2);
  header.write(encapsulated || bitsAllocated === 8 ? 'OB' : 'OW', 4, 'latin1');
  if (!encapsulated) {
    const padded = evenLength(Buffer.concat(payloads));
    header.writeUInt32LE(padded.length, 8);
    return Buffer.concat([header, padded]);
  }
  header.writeUInt32LE(0xffffffff, 8);
  const fragments = payloads.map(evenLength);
  const offsets = Buffer.alloc(frames.length > 1 ? 4 * frames.length : 0);
  fragments.slice(0, -1).reduce((offset, fragment, i) => (offsets.writeUInt32LE(offset + 8 + fragment.length, 4 * (i + 1)), offset + 8 + fragment.length), 0);
  return Buffer.concat([header, item(0xe000, offsets), ...fragments.map((f) => item(0xe000, f)), item(0xe0dd, new Uint8Array(0))]);
}

/** The data set's elements before Pixel Data, with US attributes overwritten in place. */
function headerBytes(file: Uint8Array, us: Partial<Record<UsKeyword, number>>): Buffer {
  const dataSet = dicomParser.parseDicom(file);
  const { dataSetStart } = metaHeaderFor(file, TS.ExplicitVRLittleEndian);
  const header = Buffer.from(file.subarray(dataSetStart, pixelElement(dataSet).dataOffset - 12));
  for (const [keyword, value] of Object.entries(us) as [UsKeyword, number][]) {
    const element = dataSet.elements[TAG[keyword]];
    if (!element) throw new Error(`${keyword} is not in the file`);
    header.writeUInt16LE(value, element.dataOffset - dataSetStart);
  }
  return header;
}

/** The source with other US values and/or another frame (or several), deflated when the source is. */
function variant(source: Source, change: { us?: Partial<Record<UsKeyword, number>>; frame?: Uint8Array; frames?: readonly Uint8Array[] } = {}): Uint8Array {
  const { meta } = metaHeaderFor(source.file, source.transferSyntax);
  const pixelData = pixelDataElement(change.frames ?? [change.frame ?? source.frame], source.encapsulated, source.bitsAllocated);
  const explicit = new Uint8Array(Buffer.concat([meta, headerBytes(source.file, change.us ?? {}), pixelData]));
  return source.deflated ? deflateExplicitLittleEndian(explicit) : explicit;
}

/** String attributes set with dcmjs (any length, added when absent), then deflated when the source is. */
function withStrings(source: Source, values: Parameters<typeof rewriteAttributes>[1]): Uint8Array {
  const rewritten = rewriteAttributes(variant({ ...source, deflated: false }), values);
  return source.deflated ? deflateExplicitLittleEndian(rewritten) : rewritten;
}

/**
 * The source's frame stored `count` times, with Number of Frames saying so (added, under an
 * Explicit VR Little Endian meta header, then given the source's transfer syntax back).
 */
function withFrames(source: Source, count: number): Uint8Array {
  const explicit = variant({ ...source, transferSyntax: TS.ExplicitVRLittleEndian, deflated: false }, { frames: Array.from({ length: count }, () => source.frame) });
  const stated = dicomParser.parseDicom(explicit, { untilTag: TAG.PixelData }).elements[TAG.NumberOfFrames];
  const counted = stated ? patchStrings(explicit, { [TAG.NumberOfFrames]: String(count) }) : insertString(explicit, TAG.NumberOfFrames, 'IS', String(count));
  const { meta, dataSetStart } = metaHeaderFor(counted, source.transferSyntax);
  const file = new Uint8Array(Buffer.concat([meta, counted.subarray(dataSetStart)]));
  return source.deflated ? deflateExplicitLittleEndian(file) : file;
}

/** The frame followed by a copy of itself, in one stream. */
function twice(frame: Uint8Array): Uint8Array {
  const both = new Uint8Array(2 * frame.length);
  both.set(frame);
  both.set(frame, frame.length);
  return both;
}

function flipBits(bytes: Uint8Array, count: number, from: number, to: number, rand: () => number): Uint8Array {
  const copy = bytes.slice();
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(rand() * (to - from));
    copy[at] = (copy[at] as number) ^ (1 << Math.floor(rand() * 8));
  }
  return copy;
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

const load = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(SHARED_DICOM, name)));

/** Counts the horizontal neighbours on either side of half the stored range (see Source). */
function signBitCrossings(header: { rows: number; columns: number; bitsStored: number }, stored: ArrayLike<number>): number {
  const half = 2 ** (header.bitsStored - 1);
  const mask = 2 ** header.bitsStored - 1;
  let crossings = 0;
  for (let i = 0; i < stored.length; i++) {
    if (i % header.columns !== 0 && ((stored[i] as number) & mask) >= half !== ((stored[i - 1] as number) & mask) >= half) crossings++;
  }
  return crossings;
}

async function fileSource(name: string, file: Uint8Array, options: Partial<Source> = {}): Promise<Source> {
  const { header, encodedFrame } = readPart10Image(file);
  return {
    name,
    file,
    transferSyntax: header.transferSyntaxUid,
    frame: encodedFrame.slice(),
    encapsulated: pixelElement(dicomParser.parseDicom(file)).encapsulatedPixelData === true,
    deflated: false,
    bitsAllocated: header.bitsAllocated,
    phantom: false,
    signBitCrossings: signBitCrossings(header, await decodeFrame(header, encodedFrame)),
    ...options,
  };
}

/** The intact files every corruption starts from; each of them converts without complaint. */
export async function corpusSources(): Promise<Source[]> {
  const small = load('RG3_512_explicitLE.dcm');
  const smallImage = readPart10Image(small);
  const stored = await decodeFrame(smallImage.header, smallImage.encodedFrame);
  const frameInfo = { width: 512, height: 512, componentCount: 1, isSigned: false };
  const jpegLs = await encodeJpegLs(bytesOf(stored), { ...frameInfo, bitsPerSample: smallImage.header.bitsStored });
  // The 8-bit baseline source: the detector's view of the small file, shown as it is.
  const gray = await decodeForDetector(small);
  const eightBit = patchStrings(
    variant(await fileSource('small', small), { us: { BitsAllocated: 8, BitsStored: 8, HighBit: 7 }, frame: gray.data }),
    { [TAG.PhotometricInterpretation]: 'MONOCHROME2', [TAG.WindowCenter]: '128', [TAG.WindowWidth]: '256' },
  );
  const baseline = await encodeJpegBaseline(gray.data, { ...frameInfo, bitsPerSample: 8 }, 95);
  const phantom = generatePatient(PHANTOM.seed, PHANTOM.index, PHANTOM.options);
  const native = await fileSource('native RG3 512', small);
  return [
    native,
    ...(await phantomSources(phantom.ap)),
    await fileSource('deflated RG3 512', small, { deflated: true }),
    await fileSource('RLE RG3', load('RG3_rle.dcm')),
    await fileSource('JPEG Lossless SV1 RG3', load('RG3_jpegLosslessSV1.dcm')),
    await fileSource('JPEG 2000 lossless RG3', load('RG3_J2KR.dcm')),
    await fileSource('JPEG 2000 lossy RG1', load('RG1_J2KI.dcm')),
    { ...native, name: 'JPEG-LS RG3 512', transferSyntax: TS.JPEGLSLossless, frame: jpegLs, encapsulated: true },
    { ...(await fileSource('8-bit', eightBit)), name: 'JPEG baseline RG3 512', transferSyntax: TS.JPEGBaseline8Bit, frame: baseline, encapsulated: true },
  ];
}

/** The source file itself, as stored (deflated when it is), to check that it converts. */
export function intactFile(source: Source): Uint8Array {
  return variant(source);
}

/**
 * A deflated data set whose Pixel Data is `zeros` bytes of zeros behind a valid header: a few
 * hundred kilobytes on disk. Compressed as a stream, so the test never holds the zeros either.
 */
async function deflateBomb(source: Source, zeros: number): Promise<Uint8Array> {
  const header = headerBytes(source.file, {});
  const deflatedMeta = metaHeaderFor(source.file, TS.DeflatedExplicitVRLittleEndian).meta;
  const element = Buffer.alloc(12);
  element.writeUInt16LE(0x7fe0, 0);
  element.writeUInt16LE(0x0010, 2);
  element.write('OW', 4, 'latin1');
  element.writeUInt32LE(zeros, 8);
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve, reject) => deflate.on('end', resolve).on('error', reject));
  const write = async (chunk: Buffer) => {
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  };
  await write(Buffer.concat([header, element]));
  const block = Buffer.alloc(16 * 1024 * 1024);
  for (let left = zeros; left > 0; left -= block.length) await write(left >= block.length ? block : block.subarray(0, left));
  deflate.end();
  await done;
  return new Uint8Array(Buffer.concat([deflatedMeta, ...chunks]));
}

/** Native frame with rows from `from` on replaced: zeros, or copies of the row above. */
function withRowsFrom(source: Source, fraction: number, fill: 'zero' | 'repeat'): Uint8Array {
  const frame = source.frame.slice();
  const { header } = readPart10Image(source.file);
  const rowBytes = header.columns * (header.bitsAllocated / 8);
  const from = Math.floor(header.rows * (1 - fraction));
  for (let y = from; y < header.rows; y++) {
    if (fill === 'zero') frame.fill(0, y * rowBytes, (y + 1) * rowBytes);
    else frame.copyWithin(y * rowBytes, (from - 1) * rowBytes, from * rowBytes);
  }
  return frame;
}

type AddCase = (corruption: CorruptClass, source: Source, detail: string, bytes: Uint8Array) => void;

function collector(): { cases: CorruptCase[]; add: AddCase } {
  const cases: CorruptCase[] = [];
  const add: AddCase = (corruption, source, detail, bytes) =>
    cases.push({ name: `${corruption}: ${source.name}, ${detail}`, corruption, source: source.name, bytes, phantom: source.phantom });
  return { cases, add };
}

/** A phantom view as corpus sources: uncompressed, as the phantom writer stores it, and in JPEG-LS. */
export async function phantomSources(view: Uint8Array): Promise<Source[]> {
  const native = await fileSource('phantom knee AP', view, { phantom: true });
  const { header } = readPart10Image(view);
  const frameInfo = { width: header.columns, height: header.rows, componentCount: 1, isSigned: false, bitsPerSample: header.bitsStored };
  const jpegLs = await encodeJpegLs(native.frame, frameInfo);
  return [native, { ...native, name: 'phantom knee AP, JPEG-LS', transferSyntax: TS.JPEGLSLossless, frame: jpegLs, encapsulated: true }];
}

/**
 * A phantom knee study with its AP view damaged by `corruption`: the first patient from `fromSeed`
 * on that has such a variant (a signed label needs values across the sign bit).
 */
export async function corruptPhantomStudy(corruption: CorruptClass, fromSeed: number): Promise<{ patient: GeneratedPatient; damaged: CorruptCase }> {
  for (let seed = fromSeed; seed < fromSeed + 20; seed++) {
    const patient = generatePatient(seed, 0, PHANTOM.options);
    for (const source of await phantomSources(patient.ap)) {
      const damaged = corruptionsOf(source).find((c) => c.corruption === corruption);
      if (damaged) return { patient, damaged };
    }
  }
  throw new Error(`no phantom from seed ${fromSeed} has a ${corruption} variant`);
}

/** The corruptions made from every source: the header and stream classes and the bit flips. */
export function corruptionsOf(source: Source, rand: () => number = seededRandom(12)): CorruptCase[] {
  const { cases, add } = collector();
  addCorruptionsOf(source, rand, add);
  return cases;
}

function addCorruptionsOf(source: Source, rand: () => number, add: AddCase): void {
  const { header } = readPart10Image(source.file);
  const { rows, columns } = header;
  for (const fraction of [0.1, 0.3, 0.5, 0.7, 0.9, 0.99]) {
    add('truncated-stream', source, `${fraction * 100}% of the pixel data`, variant(source, { frame: source.frame.subarray(0, Math.floor(source.frame.length * fraction)) }));
  }
  if (JPEG_FAMILY.has(source.transferSyntax)) {
    // Cut, then closed with an end-of-image marker: only the decoder can tell the lines are missing.
    for (const fraction of [0.3, 0.6, 0.9]) {
      const cut = source.frame.subarray(0, Math.floor(source.frame.length * fraction));
      add('truncated-stream', source, `${fraction * 100}% of the stream, end-of-image marker appended`, variant(source, { frame: new Uint8Array([...cut, 0xff, 0xd9]) }));
    }
  }
  add('rows-halved', source, `Rows ${rows >> 1}`, variant(source, { us: { Rows: rows >> 1 } }));
  add('rows-doubled', source, `Rows ${rows * 2}`, variant(source, { us: { Rows: rows * 2 } }));
  add('one-pixel', source, 'Rows = Columns = 1', variant(source, { us: { Rows: 1, Columns: 1 } }));
  add('rows-zero', source, 'Rows 0', variant(source, { us: { Rows: 0 } }));
  if (source.bitsAllocated === 16) {
    add('bits-allocated-8', source, 'Bits Allocated 8 alone', variant(source, { us: { BitsAllocated: 8 } }));
    add('bits-allocated-8', source, 'Bits Allocated/Stored 8, High Bit 7', variant(source, { us: { BitsAllocated: 8, BitsStored: 8, HighBit: 7 } }));
  }
  add('bits-stored-0', source, 'Bits Stored 0', variant(source, { us: { BitsStored: 0 } }));
  add('high-bit-wrong', source, `High Bit ${header.highBit + 1}`, variant(source, { us: { HighBit: header.highBit + 1 } }));
  add('blank', source, 'Rescale Slope 0', withStrings(source, { RescaleSlope: '0', RescaleIntercept: '100' }));
  add('huge-dimensions', source, '16384 x 16384', variant(source, { us: { Rows: 16384, Columns: 16384 } }));
  add('huge-dimensions', source, `Rows 20000, Columns ${columns}`, variant(source, { us: { Rows: 20000 } }));
  // Only where values cross the sign bit does a signed label change them (wrap them negative).
  if (source.signBitCrossings > 0) add('pixel-representation-signed', source, 'Pixel Representation 1 on unsigned data', variant(source, { us: { PixelRepresentation: 1 } }));
  for (const frames of [2, 3]) add('multi-frame', source, `Number of Frames ${frames}, the frame stored ${frames} times`, withFrames(source, frames));
  if (source.encapsulated) {
    add('second-image-appended', source, 'a second complete image after the stream', variant(source, { frame: twice(source.frame) }));
  }
  for (const [keyword, value] of Object.entries({ Rows: rows, Columns: columns, BitsAllocated: header.bitsAllocated, BitsStored: header.bitsStored, HighBit: header.highBit })) {
    const bit = Math.floor(rand() * 16);
    add('bit-flip-header', source, `${keyword} bit ${bit} flipped`, variant(source, { us: { [keyword]: value ^ (1 << bit) } }));
  }
  if (source.encapsulated) {
    // Past the codec's own header, in the entropy-coded data.
    const from = Math.min(1024, source.frame.length >> 4);
    for (const flips of [1, 10]) {
      for (let seed = 0; seed < 4; seed++) {
        add('bit-flip-data', source, `${flips} bit(s) flipped, seed ${seed}`, variant(source, { frame: flipBits(source.frame, flips, from, source.frame.length - 2, seededRandom(seed * 100 + flips)) }));
      }
    }
  }
}

export async function buildCorruptCorpus(): Promise<CorruptCase[]> {
  const sources = await corpusSources();
  const { cases, add } = collector();
  const rand = seededRandom(12);
  for (const source of sources) addCorruptionsOf(source, rand, add);
  for (const source of sources.filter((s) => ['native RG3 512', 'phantom knee AP', 'RLE RG3', 'JPEG Lossless SV1 RG3'].includes(s.name))) {
    const full = variant(source);
    for (const fraction of [0.3, 0.6, 0.95]) add('truncated-file', source, `file cut at ${fraction * 100}%`, full.subarray(0, Math.floor(full.length * fraction)));
  }
  for (const source of sources.filter((s) => !s.encapsulated)) {
    for (const fraction of [0.4, 0.5, 0.75]) add('zero-rows', source, `last ${fraction * 100}% of rows zero`, variant(source, { frame: withRowsFrom(source, fraction, 'zero') }));
    add('zero-rows', source, 'last 40% of rows repeat the row above', variant(source, { frame: withRowsFrom(source, 0.4, 'repeat') }));
    add('blank', source, 'every pixel 0', variant(source, { frame: new Uint8Array(source.frame.length) }));
    add('too-many-frames', source, 'Number of Frames 1000', withStrings(source, { NumberOfFrames: '1000' }));
  }
  const jpegLs = sources.find((s) => s.name === 'JPEG-LS RG3 512') as Source;
  const small = sources[0] as Source;
  for (const fraction of [0.4, 0.5, 0.75]) {
    const zeroed = withRowsFrom(small, fraction, 'zero');
    const frame = await encodeJpegLs(zeroed, { width: 512, height: 512, componentCount: 1, isSigned: false, bitsPerSample: 10 });
    add('zero-rows', jpegLs, `last ${fraction * 100}% of rows zero, re-encoded`, variant(jpegLs, { frame }));
  }
  const phantom = sources.find((s) => s.phantom) as Source;
  for (const [source, zeros] of [[small, 1.5 * 2 ** 30], [small, 300 * 2 ** 20], [phantom, 300 * 2 ** 20]] as const) {
    add('deflate-bomb', source, `${(zeros / 2 ** 20).toFixed(0)} MiB of zeros deflated`, await deflateBomb(source, zeros));
  }
  return cases;
}
