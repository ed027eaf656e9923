/**
 * Encoders to make JPEG-LS and JPEG baseline streams of real pixels in the tests (Orthanc 1.10
 * from Debian crashes when asked to transcode to them): CharLS from the cornerstone codec package,
 * and libjpeg-turbo through sharp, independent of the decoder under test.
 */
import sharp from 'sharp';
import charlsFactory from '@cornerstonejs/codec-charls/wasmjs';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}

export async function encodeJpegLs(pixels: Uint8Array, frame: FrameInfo, nearLossless = 0): Promise<Uint8Array> {
  const encoder = new (await charlsFactory()).JpegLSEncoder();
  encoder.getDecodedBuffer(frame).set(pixels);
  encoder.setNearLossless(nearLossless);
  encoder.encode();
  return encoder.getEncodedBuffer().slice();
}

export async function encodeJpegBaseline(pixels: Uint8Array, frame: FrameInfo, quality: number): Promise<Uint8Array> {
  const jpeg = await sharp(Buffer.from(pixels), { raw: { width: frame.width, height: frame.height, channels: 1 } })
    .toColourspace('b-w')
    .jpeg({ quality, progressive: false, mozjpeg: false })
    .toBuffer();
  return new Uint8Array(jpeg);
}
