/**
 * Decodes one frame to stored pixel values, by transfer syntax, with the cornerstone WASM codecs
 * (JPEG baseline, JPEG-LS, JPEG 2000), jpeg-lossless-decoder-js (JPEG Lossless) and our RLE
 * decoder. A syntax not listed here is refused as unsupported so that the DICOMweb step can ask
 * the server to transcode instead.
 */
import openJpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import charlsFactory from '@cornerstonejs/codec-charls/decodewasmjs';
import libJpegTurboFactory from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs';
import type { WasmDecoder } from 'wasm-image-decoder';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import { KneeTumorError } from '../errors';
import { readJ2kCodestream, readJpegStream } from './codestream';
import type { ImageHeader } from './image-header';
import { checkDecodedFrame, checkPixelRepresentation, checkStoredRange } from './integrity';
import { decodeRle } from './rle';
import { TRANSFER_SYNTAX as TS } from './tags';

/** Stored values of one single-sample frame, row-major. */
export type StoredPixels = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

type WasmCodec = 'openjpeg' | 'charls' | 'libjpeg-turbo';

const SUPPORTED: Record<string, string> = {
  [TS.ImplicitVRLittleEndian]: 'Implicit VR Little Endian',
  [TS.ExplicitVRLittleEndian]: 'Explicit VR Little Endian',
  [TS.DeflatedExplicitVRLittleEndian]: 'Deflated Explicit VR Little Endian',
  [TS.ExplicitVRBigEndian]: 'Explicit VR Big Endian',
  [TS.JPEGBaseline8Bit]: 'JPEG Baseline',
  [TS.JPEGLossless]: 'JPEG Lossless',
  [TS.JPEGLosslessSV1]: 'JPEG Lossless SV1',
  [TS.JPEGLSLossless]: 'JPEG-LS Lossless',
  [TS.JPEGLSNearLossless]: 'JPEG-LS Near-Lossless',
  [TS.JPEG2000Lossless]: 'JPEG 2000 Lossless',
  [TS.JPEG2000]: 'JPEG 2000',
  [TS.RLELossless]: 'RLE Lossless',
};

export function isSupportedTransferSyntax(uid: string): boolean {
  return uid in SUPPORTED;
}

export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.keys(SUPPORTED);

// Each WASM module is instantiated once per process and its decoder classes reused.
const wasmModules = new Map<WasmCodec, Promise<WasmDecoder>>();
/**
 * What the codecs print during the current decode. OpenJPEG reports a truncated or damaged stream
 * only there ("[ERROR] ...") and still returns pixels, so the messages must be read.
 */
const codecMessages: string[] = [];

function newWasmDecoder(codec: WasmCodec): Promise<WasmDecoder> {
  const cached = wasmModules.get(codec);
  if (cached) return cached;
  // Kept off stdout, which carries `--json` output.
  const quiet = { print: (text: string) => void codecMessages.push(text), printErr: (text: string) => void codecMessages.push(text) };
  const created =
    codec === 'openjpeg'
      ? openJpegFactory(quiet).then((m) => new m.J2KDecoder())
      : codec === 'charls'
        ? charlsFactory(quiet).then((m) => new m.JpegLSDecoder())
        : libJpegTurboFactory(quiet).then((m) => new m.JPEGDecoder());
  wasmModules.set(codec, created);
  return created;
}

// The decoders share WASM memory, so calls to one decoder are serialised.
const decoderQueues = new Map<WasmCodec, Promise<unknown>>();

async function decodeWithWasm(codec: WasmCodec, frame: Uint8Array): Promise<{ bytes: Uint8Array; signed: boolean; bits: number; width: number; height: number; components: number }> {
  const previous = decoderQueues.get(codec) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    const decoder = await newWasmDecoder(codec);
    codecMessages.length = 0;
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const errors = codecMessages.filter((m) => /^\[ERROR\]/.test(m)).map((m) => m.replace(/^\[ERROR\]\s*/, ''));
    if (errors.length > 0) throw new KneeTumorError('pixel-data-invalid', `the compressed stream is damaged or truncated: ${errors.join('; ')}`);
    const info = decoder.getFrameInfo();
    const bytes = new Uint8Array(decoder.getDecodedBuffer());
    return { bytes, signed: info.isSigned, bits: info.bitsPerSample, width: info.width, height: info.height, components: info.componentCount };
  });
  decoderQueues.set(codec, run);
  return run;
}

function typedView(bytes: Uint8Array, bytesPerSample: number, signed: boolean): StoredPixels {
  // Copy into an aligned buffer: a subarray of a file may start at an odd offset.
  const aligned = bytes.byteOffset % bytesPerSample === 0 ? bytes : bytes.slice();
  const length = aligned.byteLength / bytesPerSample;
  switch (bytesPerSample) {
    case 1:
      return signed ? new Int8Array(aligned.buffer, aligned.byteOffset, length) : aligned;
    case 2:
      return signed ? new Int16Array(aligned.buffer, aligned.byteOffset, length) : new Uint16Array(aligned.buffer, aligned.byteOffset, length);
    case 4:
      return signed ? new Int32Array(aligned.buffer, aligned.byteOffset, length) : new Uint32Array(aligned.buffer, aligned.byteOffset, length);
    default:
      throw new KneeTumorError('pixel-data-invalid', `${bytesPerSample * 8} bits per sample are not supported`);
  }
}

function swapBytes(bytes: Uint8Array, bytesPerSample: number): Uint8Array {
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += bytesPerSample) {
    for (let b = 0; b < bytesPerSample; b++) swapped[i + b] = bytes[i + bytesPerSample - 1 - b] ?? 0;
  }
  return swapped;
}

/**
 * JPEG Lossless, confirmed complete: the decoder must have decoded every line of the scan without
 * reading past the stream's end-of-image marker (`end`; a truncated stream otherwise decodes to
 * rows of whatever the decoder leaves).
 */
function decodeJpegLossless(frame: Uint8Array, end: number, pixels: number, bytesPerSample: number, name: string): Uint8Array {
  const copy = frame.slice();
  const decoder = new JpegLosslessDecoder();
  const decoded = decoder.decode(copy.buffer, 0, copy.length, bytesPerSample);
  // The decoder stops on the code that runs into EOI without storing that last sample, so a
  // complete scan ends one sample short (the real SV1 file does); anything less is missing lines.
  const decodedSamples = Math.min(decoder.yLoc, decoder.yDim) * decoder.xDim + decoder.xLoc;
  if (decodedSamples < pixels - 1 || decoder.stream.index > end) {
    throw new KneeTumorError('pixel-data-invalid', `the ${name} stream ends after ${Math.min(decoder.yLoc, decoder.yDim)} of ${decoder.yDim} lines (truncated or damaged)`);
  }
  const bytes = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  if (bytes.length !== pixels * bytesPerSample) throw new KneeTumorError('pixel-data-invalid', `the ${name} stream decodes to ${bytes.length} bytes, a complete frame is ${pixels * bytesPerSample}`);
  return bytes;
}

/**
 * Decodes the frame into stored values (before any LUT), confirmed to be the complete frame the
 * header describes, in the Pixel Representation the header states. Only grayscale is accepted.
 */
export async function decodeFrame(header: ImageHeader, frame: Uint8Array): Promise<StoredPixels> {
  const stored = await decodeStoredValues(header, frame);
  checkStoredRange(header, stored);
  checkPixelRepresentation(header, stored);
  return stored;
}

async function decodeStoredValues(header: ImageHeader, frame: Uint8Array): Promise<StoredPixels> {
  const syntax = header.transferSyntaxUid;
  if (!isSupportedTransferSyntax(syntax)) {
    throw new KneeTumorError('unsupported-transfer-syntax', `transfer syntax ${syntax} cannot be decoded here`);
  }
  if (header.samplesPerPixel !== 1 || !header.photometricInterpretation.startsWith('MONOCHROME')) {
    throw new KneeTumorError(
      'pixel-data-invalid',
      `a ${header.photometricInterpretation} image with ${header.samplesPerPixel} samples per pixel is not a grayscale radiograph`,
    );
  }
  const bytesPerSample = Math.ceil(header.bitsAllocated / 8);
  const signed = header.pixelRepresentation === 1;
  const pixels = header.rows * header.columns;
  const name = SUPPORTED[syntax] ?? syntax;
  try {
    switch (syntax) {
      case TS.ImplicitVRLittleEndian:
      case TS.ExplicitVRLittleEndian:
      // dicom-parser has already inflated a deflated data set: its pixels are native.
      case TS.DeflatedExplicitVRLittleEndian:
        return typedView(frame.subarray(0, pixels * bytesPerSample), bytesPerSample, signed);
      case TS.ExplicitVRBigEndian:
        return typedView(swapBytes(frame.subarray(0, pixels * bytesPerSample), bytesPerSample), bytesPerSample, signed);
      case TS.RLELossless:
        return typedView(decodeRle(frame, pixels, bytesPerSample), bytesPerSample, signed);
      case TS.JPEGLossless:
      case TS.JPEGLosslessSV1: {
        const { declared, end } = readJpegStream(frame, name);
        checkDecodedFrame(header, declared, name);
        return typedView(decodeJpegLossless(frame, end, pixels, bytesPerSample, name), bytesPerSample, signed);
      }
      default: {
        const codec: WasmCodec = syntax === TS.JPEGBaseline8Bit ? 'libjpeg-turbo' : syntax.startsWith('1.2.840.10008.1.2.4.8') ? 'charls' : 'openjpeg';
        checkDecodedFrame(header, (codec === 'openjpeg' ? readJ2kCodestream(frame, name) : readJpegStream(frame, name)).declared, name);
        const decoded = await decodeWithWasm(codec, frame);
        checkDecodedFrame(header, { ...decoded, precision: decoded.bits }, name);
        // The codecs return one byte per sample up to 8 bits, two above, whatever Bits Allocated says.
        const sampleBytes = decoded.bits > 8 ? 2 : 1;
        if (decoded.bytes.length !== pixels * sampleBytes) {
          throw new KneeTumorError('pixel-data-invalid', `the ${name} codec returned ${decoded.bytes.length} bytes, a complete frame is ${pixels * sampleBytes}`);
        }
        return typedView(decoded.bytes, sampleBytes, signed);
      }
    }
  } catch (cause) {
    if (cause instanceof KneeTumorError) throw cause;
    const reason = cause instanceof Error ? cause.message : typeof cause === 'number' ? 'the codec stopped on an error (a damaged or truncated stream)' : String(cause);
    throw new KneeTumorError('pixel-data-invalid', `the ${name} pixel data cannot be decoded: ${reason}`, { cause });
  }
}
