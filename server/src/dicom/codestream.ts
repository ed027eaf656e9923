/**
 * The frame size and precision a compressed stream declares in its own header (the JPEG SOF
 * segment, the JPEG 2000 SIZ marker), read before decoding: a codec allocates what its stream
 * says, so a stream that disagrees with the DICOM header is refused before it can allocate.
 */
import { KneeTumorError } from '../errors';

export interface DeclaredFrame {
  width: number;
  height: number;
  components: number;
  precision: number;
}

/** SOF0-15 except DHT (C4), JPG (C8) and DAC (CC), and JPEG-LS SOF55 (F7). */
function isStartOfFrame(marker: number): boolean {
  return (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7;
}

function damaged(codec: string, what: string): KneeTumorError {
  return new KneeTumorError('pixel-data-invalid', `the ${codec} stream is damaged: ${what}`);
}

/** JPEG (baseline, lossless, JPEG-LS): walks the marker segments from SOI to the frame header. */
export function jpegDeclaredFrame(frame: Uint8Array, codec: string): DeclaredFrame {
  if (frame[0] !== 0xff || frame[1] !== 0xd8) throw damaged(codec, 'it does not start with the start-of-image marker');
  let pos = 2;
  while (pos + 4 <= frame.length) {
    if (frame[pos] !== 0xff) throw damaged(codec, `no marker at byte ${pos} before the frame header`);
    const marker = frame[pos + 1] as number;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = ((frame[pos + 2] as number) << 8) | (frame[pos + 3] as number);
    if (isStartOfFrame(marker)) {
      if (pos + 10 > frame.length) break;
      return {
        precision: frame[pos + 4] as number,
        height: ((frame[pos + 5] as number) << 8) | (frame[pos + 6] as number),
        width: ((frame[pos + 7] as number) << 8) | (frame[pos + 8] as number),
        components: frame[pos + 9] as number,
      };
    }
    if (length < 2) throw damaged(codec, `marker segment ${marker.toString(16)} has length ${length}`);
    pos += 2 + length;
  }
  throw damaged(codec, 'it has no frame header');
}

/**
 * JPEG (baseline, lossless, JPEG-LS) streams end with the end-of-image marker; without it the
 * stream was cut off, and a codec would decode whatever it finds, or spin for seconds (CharLS).
 * Returns where the marker ends. A fragment is padded to even length, so one zero may follow.
 */
export function jpegEndOfImage(frame: Uint8Array, codec: string): number {
  const end = frame.length - (frame[frame.length - 1] === 0 && frame[frame.length - 2] !== 0xff ? 1 : 0);
  if (frame[end - 2] !== 0xff || frame[end - 1] !== 0xd9) throw damaged(codec, 'it has no end-of-image marker (truncated)');
  return end;
}

/** JPEG 2000: the SIZ marker segment that follows SOC (PS15444-1 A.5.1). */
export function j2kDeclaredFrame(frame: Uint8Array, codec: string): DeclaredFrame {
  // A raw codestream starts with SOC SIZ; a JP2 file wraps it in boxes, so look a little further.
  const searchEnd = Math.min(frame.length - 44, 4096);
  for (let m = 0; m <= searchEnd; m++) {
    if (frame[m] === 0xff && frame[m + 1] === 0x4f && frame[m + 2] === 0xff && frame[m + 3] === 0x51) {
      const view = new DataView(frame.buffer, frame.byteOffset + m + 2, 42);
      const width = view.getUint32(6) - view.getUint32(14);
      const height = view.getUint32(10) - view.getUint32(18);
      return { width, height, components: view.getUint16(38), precision: ((view.getUint8(40) & 0x7f) + 1) };
    }
  }
  throw damaged(codec, 'it has no SIZ marker (image size) after its start of codestream');
}
