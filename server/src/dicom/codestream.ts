/**
 * The structure of a compressed frame, read before decoding by walking its markers: the frame
 * size and precision the stream declares (the JPEG SOF segment, the JPEG 2000 SIZ marker), since
 * a codec allocates what its stream says, and where the stream's one image ends (JPEG's EOI after
 * the last scan, JPEG 2000's EOC after the last tile-part). A stream that disagrees with the DICOM
 * header, stops before its end, or goes on past it (a second image appended) is refused.
 */
import { KneeTumorError } from '../errors';

export interface DeclaredFrame {
  width: number;
  height: number;
  components: number;
  precision: number;
}

/** What the stream declares, and the byte after its end-of-image (EOI) or end-of-codestream (EOC) marker. */
export interface CodestreamLayout {
  declared: DeclaredFrame;
  end: number;
}

/** SOF0-15 except DHT (C4), JPG (C8) and DAC (CC), and JPEG-LS SOF55 (F7). */
function isStartOfFrame(marker: number): boolean {
  return (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
}

/** Restart markers RST0-7 and TEM carry no length. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

const START_OF_SCAN = 0xda;
const END_OF_IMAGE = 0xd9;
const JPEG_LS_FRAME = 0xf7;

function damaged(codec: string, what: string): KneeTumorError {
  return new KneeTumorError('pixel-data-invalid', `the ${codec} stream is damaged: ${what}`);
}

function uint16(frame: Uint8Array, at: number): number {
  return ((frame[at] as number) << 8) | (frame[at + 1] as number);
}

/**
 * Where the entropy-coded data of a scan ends: at the first marker other than a restart marker.
 * Inside the data a 0xFF byte is followed by a stuffed 0x00 in JPEG, by a byte below 0x80 in
 * JPEG-LS (ITU-T T.87 A.1), so a marker cannot hide there.
 */
function entropyCodedEnd(frame: Uint8Array, from: number, jpegLs: boolean): number {
  for (let i = from; i + 1 < frame.length; i++) {
    if (frame[i] !== 0xff) continue;
    const next = frame[i + 1] as number;
    if ((jpegLs ? next < 0x80 : next === 0x00) || (next >= 0xd0 && next <= 0xd7)) i++;
    else if (next !== 0xff) return i;
  }
  return frame.length;
}

/**
 * A fragment is padded to even length (PS3.5 A.4), so one byte may follow the stream's end;
 * anything more is data the header does not describe, such as a second image.
 */
function assertNothingAfter(frame: Uint8Array, end: number, codec: string, marker: string): void {
  const after = frame.length - end;
  if (after > 1) {
    throw new KneeTumorError('dicom-inconsistent', `the ${codec} frame holds ${after} bytes after its ${marker} marker: more than the one image the header describes`);
  }
}

/**
 * JPEG (baseline, lossless, JPEG-LS): walks the marker segments from SOI through every scan to the
 * EOI. Without it the stream was cut off, and a codec would decode whatever it finds, or spin for
 * seconds (CharLS); data after it is refused.
 */
export function readJpegStream(frame: Uint8Array, codec: string): CodestreamLayout {
  if (frame[0] !== 0xff || frame[1] !== 0xd8) throw damaged(codec, 'it does not start with the start-of-image marker');
  let declared: DeclaredFrame | undefined;
  let jpegLs = false;
  let pos = 2;
  while (pos + 2 <= frame.length) {
    if (frame[pos] !== 0xff) throw damaged(codec, `no marker at byte ${pos}`);
    const marker = frame[pos + 1] as number;
    if (marker === 0xff || isStandalone(marker)) {
      pos += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === END_OF_IMAGE) {
      if (!declared) throw damaged(codec, 'it has no frame header');
      assertNothingAfter(frame, pos + 2, codec, 'end-of-image');
      return { declared, end: pos + 2 };
    }
    if (pos + 4 > frame.length) break;
    const length = uint16(frame, pos + 2);
    if (length < 2) throw damaged(codec, `marker segment ${marker.toString(16)} has length ${length}`);
    if (isStartOfFrame(marker)) {
      if (declared) throw damaged(codec, 'it has a second frame header');
      if (pos + 10 > frame.length) break;
      declared = { precision: frame[pos + 4] as number, height: uint16(frame, pos + 5), width: uint16(frame, pos + 7), components: frame[pos + 9] as number };
      jpegLs = marker === JPEG_LS_FRAME;
    }
    pos += 2 + length;
    if (marker === START_OF_SCAN) pos = entropyCodedEnd(frame, pos, jpegLs);
  }
  throw damaged(codec, declared ? 'it has no end-of-image marker (truncated)' : 'it has no frame header');
}

/**
 * JPEG 2000: the SIZ marker segment that follows SOC (PS15444-1 A.5.1), then the main header's
 * marker segments to the first tile-part, and the tile-parts by their own lengths (Psot, A.4.2)
 * to the EOC after the last one. A Psot of 0 (the last tile-part runs to the end) is accepted
 * when the frame ends with EOC.
 */
export function readJ2kCodestream(frame: Uint8Array, codec: string): CodestreamLayout {
  // A raw codestream starts with SOC SIZ; a JP2 file wraps it in boxes, so look a little further.
  const searchEnd = Math.min(frame.length - 44, 4096);
  let start = -1;
  for (let m = 0; m <= searchEnd && start < 0; m++) {
    if (frame[m] === 0xff && frame[m + 1] === 0x4f && frame[m + 2] === 0xff && frame[m + 3] === 0x51) start = m;
  }
  if (start < 0) throw damaged(codec, 'it has no SIZ marker (image size) after its start of codestream');
  const view = new DataView(frame.buffer, frame.byteOffset + start + 2, 42);
  const declared: DeclaredFrame = {
    width: view.getUint32(6) - view.getUint32(14),
    height: view.getUint32(10) - view.getUint32(18),
    components: view.getUint16(38),
    precision: (view.getUint8(40) & 0x7f) + 1,
  };
  let pos = start + 2;
  while (!(frame[pos] === 0xff && frame[pos + 1] === 0x90)) {
    if (pos + 4 > frame.length) throw damaged(codec, 'its main header is cut off (truncated)');
    if (frame[pos] !== 0xff) throw damaged(codec, `no marker at byte ${pos} of its main header`);
    const length = uint16(frame, pos + 2);
    if (length < 2) throw damaged(codec, `marker segment ${uint16(frame, pos).toString(16)} has length ${length}`);
    pos += 2 + length;
  }
  while (frame[pos] === 0xff && frame[pos + 1] === 0x90) {
    if (pos + 12 > frame.length) throw damaged(codec, 'a tile-part header is cut off (truncated)');
    const tilePartLength = new DataView(frame.buffer, frame.byteOffset + pos + 6, 4).getUint32(0);
    if (tilePartLength === 0) {
      const end = frame.length - (frame[frame.length - 2] === 0xff && frame[frame.length - 1] === 0xd9 ? 0 : 1);
      if (frame[end - 2] !== 0xff || frame[end - 1] !== 0xd9) throw damaged(codec, 'it has no end-of-codestream marker (truncated)');
      return { declared, end };
    }
    if (tilePartLength < 14) throw damaged(codec, `a tile-part has length ${tilePartLength}`);
    pos += tilePartLength;
  }
  if (pos + 2 > frame.length) throw damaged(codec, 'it ends inside a tile-part (truncated)');
  if (frame[pos] !== 0xff || frame[pos + 1] !== 0xd9) throw damaged(codec, `no end-of-codestream marker after its last tile-part (byte ${pos})`);
  assertNothingAfter(frame, pos + 2, codec, 'end-of-codestream');
  return { declared, end: pos + 2 };
}
