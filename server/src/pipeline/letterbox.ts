/**
 * The detector's geometry: letterbox an image into the model's square input (keep the aspect
 * ratio, pad with the manifest's value), make the test-time augmentation passes from it, and map
 * boxes back exactly: pass → letterbox (undo scale and flip) → original pixels (undo pad and
 * resize, with the scale actually applied on each axis).
 */
import sharp from 'sharp';
import type { Gray8Image } from '../imaging/gray8';
import type { PixelBox } from '../domain/analysis';
import type { TtaPass } from '../model/manifest';

export interface Letterbox {
  image: Gray8Image;
  /** Resize factors actually applied (rounded sizes make them differ slightly per axis). */
  scaleX: number;
  scaleY: number;
  padLeft: number;
  padTop: number;
  source: { width: number; height: number };
}

/** YOLOv5's letterbox: the longer side becomes `size`, the padding is split evenly. */
export async function letterbox(image: Gray8Image, size: number, padValue: number): Promise<Letterbox> {
  const gain = Math.min(size / image.width, size / image.height);
  const width = Math.max(1, Math.round(image.width * gain));
  const height = Math.max(1, Math.round(image.height * gain));
  const padLeft = Math.round((size - width) / 2 - 0.1);
  const padTop = Math.round((size - height) / 2 - 0.1);
  const pad = Math.round(padValue * 255);
  const data = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .resize(width, height, { kernel: 'linear', fit: 'fill' })
    .extend({ left: padLeft, top: padTop, right: size - width - padLeft, bottom: size - height - padTop, background: { r: pad, g: pad, b: pad } })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return {
    image: { width: size, height: size, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
    scaleX: width / image.width,
    scaleY: height / image.height,
    padLeft,
    padTop,
    source: { width: image.width, height: image.height },
  };
}

/** The input shape of a TTA pass: the scaled letterbox padded up to the grid stride. */
export function passShape(size: number, pass: TtaPass, gridStride: number): { width: number; height: number; scaled: number } {
  const scaled = Math.floor(size * pass.scale);
  const padded = Math.ceil(scaled / gridStride) * gridStride;
  return { width: padded, height: padded, scaled };
}

/**
 * The pixels of one TTA pass (YOLOv5's scale_img: flip, resize, pad right and bottom), as 0..1
 * floats repeated into three channels, written into `target` at `offset` (NCHW).
 */
export async function writePassInput(
  boxed: Gray8Image,
  pass: TtaPass,
  gridStride: number,
  padValue: number,
  target: Float32Array,
  offset: number,
): Promise<void> {
  const { width, height, scaled } = passShape(boxed.width, pass, gridStride);
  let pipeline = sharp(Buffer.from(boxed.data.buffer, boxed.data.byteOffset, boxed.data.byteLength), {
    raw: { width: boxed.width, height: boxed.height, channels: 1 },
  });
  if (pass.flipLeftRight) pipeline = pipeline.flop();
  if (scaled !== boxed.width) pipeline = pipeline.resize(scaled, scaled, { kernel: 'linear', fit: 'fill' });
  const pixels = await pipeline.extractChannel(0).raw().toBuffer();
  const plane = width * height;
  target.fill(padValue, offset, offset + 3 * plane);
  for (let y = 0; y < scaled; y++) {
    const row = offset + y * width;
    for (let x = 0; x < scaled; x++) target[row + x] = (pixels[y * scaled + x] ?? 0) / 255;
  }
  target.copyWithin(offset + plane, offset, offset + plane);
  target.copyWithin(offset + 2 * plane, offset, offset + plane);
}

/** A pass's box (centre x, y, width, height in pass pixels) → letterbox pixels (YOLOv5's _descale_pred). */
export function descalePassBox(cx: number, cy: number, w: number, h: number, pass: TtaPass, letterboxSize: number): PixelBox {
  const scale = Math.floor(letterboxSize * pass.scale) / letterboxSize;
  let x = cx / scale;
  const y = cy / scale;
  if (pass.flipLeftRight) x = letterboxSize - x;
  const width = w / scale;
  const height = h / scale;
  return { x: x - width / 2, y: y - height / 2, width, height };
}

/**
 * A box narrower or shorter than this, in original pixels after clipping to the image, is not a
 * lesion but what is left of a box that lay mostly in the letterbox padding (e.g. 155 x 0.3 px
 * along the image edge). Two pixels is about one pixel of the network's input for a radiograph
 * scaled down to it, and far below any bone tumour (millimetres: tens of pixels at radiographic
 * pixel spacings of 0.1 to 0.2 mm).
 */
export const MIN_BOX_SIDE_PX = 2;

/** Letterbox pixels → original image pixels, clipped to the image. */
export function unletterboxBox(box: PixelBox, geometry: Letterbox): PixelBox {
  const x1 = Math.min(Math.max((box.x - geometry.padLeft) / geometry.scaleX, 0), geometry.source.width);
  const y1 = Math.min(Math.max((box.y - geometry.padTop) / geometry.scaleY, 0), geometry.source.height);
  const x2 = Math.min(Math.max((box.x + box.width - geometry.padLeft) / geometry.scaleX, 0), geometry.source.width);
  const y2 = Math.min(Math.max((box.y + box.height - geometry.padTop) / geometry.scaleY, 0), geometry.source.height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

/** A pass's box (letterbox pixels) → its box in original pixels, or undefined when it clips to a sliver. */
export function imageBox(box: PixelBox, geometry: Letterbox): PixelBox | undefined {
  const clipped = unletterboxBox(box, geometry);
  return clipped.width >= MIN_BOX_SIDE_PX && clipped.height >= MIN_BOX_SIDE_PX ? clipped : undefined;
}
