/** Rasterises a report figure to PNG (sharp's librsvg), for slides and documents that take no SVG. */
import sharp from 'sharp';

export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
}
