/**
 * An annotated PNG of a view for people: the converted radiograph with each lesion box drawn,
 * labelled with its confidence and fold agreement, and the AI notice. Boxes at or above the
 * operating threshold are solid, those below dashed, so the difference does not rest on colour.
 */
import sharp from 'sharp';
import type { LesionBox } from '../domain/analysis';
import type { Gray8Image } from './gray8';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

export function overlaySvg(width: number, height: number, boxes: LesionBox[], operatingThreshold: number, caption: string): string {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(14, Math.round(Math.max(width, height) / 60));
  const shapes = boxes.map((b, i) => {
    const above = b.confidence >= operatingThreshold;
    const label = `#${i + 1} ${b.confidence.toFixed(2)} (${b.foldsAgreeing}/${b.foldCount} folds)${above ? '' : ' below threshold'}`;
    const labelY = b.y > font * 1.5 ? b.y - font * 0.4 : b.y + b.height + font * 1.1;
    return [
      `<rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height.toFixed(1)}" fill="none" stroke="${above ? '#ffd400' : '#00c8ff'}" stroke-width="${stroke}"${above ? '' : ` stroke-dasharray="${stroke * 4},${stroke * 3}"`}/>`,
      `<text x="${b.x.toFixed(1)}" y="${labelY.toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#ffffff" stroke="#000000" stroke-width="${stroke / 2}" paint-order="stroke">${escapeXml(label)}</text>`,
    ].join('');
  });
  const captionText = `<text x="${font / 2}" y="${height - font / 2}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#ffffff" stroke="#000000" stroke-width="${stroke / 2}" paint-order="stroke">${escapeXml(caption)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}${captionText}</svg>`;
}

export async function annotatedPng(image: Gray8Image, boxes: LesionBox[], operatingThreshold: number, caption: string): Promise<Buffer> {
  const svg = overlaySvg(image.width, image.height, boxes, operatingThreshold, caption);
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .toColourspace('srgb')
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}

/** A one-channel 8-bit PNG of exactly these pixels (sharp would otherwise write sRGB). */
export async function grayPng(image: Gray8Image): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}
