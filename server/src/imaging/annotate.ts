/**
 * An annotated PNG of a view for people: the converted radiograph with its boxes at or above the
 * operating threshold (solid), those below it only when asked (dashed, so the difference does not
 * rest on colour), each labelled with its confidence and fold agreement, the finding drawn last,
 * and a footer with the AI notice, the legend and, for a demonstration model, its notice. Labels
 * are placed by box-layout.ts, as in the viewer: none covers another label or the footer.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { DEMONSTRATION_MODEL_NOTICE, isDemonstrationModel, type AnalysisResult, type LesionBox, type ViewFinding } from '../domain/analysis';
import { boxesToShow, countBelowThreshold, placeLabels, type LayoutRect } from '../domain/box-layout';
import type { Gray8Image } from './gray8';

const FONT_FAMILY = 'DejaVu Sans';

export interface AnnotationOptions {
  /** Also draw the boxes below the operating threshold (dashed). */
  showBelowThreshold: boolean;
}

/** White text rendered by Pango (sharp's text input), the renderer that measures it: the PNG and its size. */
export interface RenderedText {
  text: string;
  png: Buffer;
  width: number;
  height: number;
}

export interface DrawnBox {
  box: LesionBox;
  aboveThreshold: boolean;
  finding: boolean;
  text: RenderedText;
  /** Where the label goes; undefined when no free spot was left. */
  label?: LayoutRect;
}

/** Everything the picture draws, in image pixels; `boxes` in drawing order (the finding last). */
export interface AnnotationLayout {
  width: number;
  height: number;
  stroke: number;
  padding: number;
  boxes: DrawnBox[];
  footer: LayoutRect;
  footerText: RenderedText;
}

function escapeMarkup(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** `text` in white at `font` pixels, wrapped at word boundaries to `wrapWidth` when given. */
async function renderText(text: string, font: number, wrapWidth?: number): Promise<RenderedText> {
  const { data, info } = await sharp({
    text: {
      text: `<span foreground="#ffffff">${escapeMarkup(text)}</span>`,
      font: `${FONT_FAMILY} ${font}`,
      // 72 dpi: a point is a pixel.
      dpi: 72,
      rgba: true,
      ...(wrapWidth ? { width: Math.floor(wrapWidth), wrap: 'word' as const, spacing: Math.round(font * 0.3) } : {}),
    },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  return { text, png: data, width: info.width, height: info.height };
}

function viewWords(view: ViewFinding['view']): string {
  return view === 'AP' ? 'AP' : 'Lateral';
}

function footerLines(view: ViewFinding, result: Pick<AnalysisResult, 'model' | 'operatingThreshold'>, options: AnnotationOptions): string[] {
  const made = `${viewWords(view.view)} view - AI-generated (${result.model.name} ${result.model.version}), not a diagnosis.`;
  const demonstration = isDemonstrationModel(result.model) ? [DEMONSTRATION_MODEL_NOTICE] : [];
  if (view.domain?.outside) return [made, "No AI boxes: this view is outside the model's validated domain (unlike the images it was validated on).", ...demonstration];
  const below = countBelowThreshold(view.boxes, result.operatingThreshold);
  const hidden = !options.showBelowThreshold && below > 0 ? `; ${below} box${below === 1 ? '' : 'es'} below it not drawn` : '';
  const dashed = options.showBelowThreshold && below > 0 ? '; dashed: below it' : '';
  return [made, `Solid box: confidence at or above the operating threshold ${result.operatingThreshold.toFixed(2)}${dashed}${hidden}.`, ...demonstration];
}

export async function annotationLayout(
  width: number,
  height: number,
  view: ViewFinding,
  result: Pick<AnalysisResult, 'model' | 'operatingThreshold'>,
  options: AnnotationOptions,
): Promise<AnnotationLayout> {
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 400));
  const font = Math.max(14, Math.round(Math.max(width, height) / 60));
  const padding = Math.max(3, Math.round(font / 4));
  const footerText = await renderText(footerLines(view, result, options).join('\n'), font, width - 2 * padding);
  const footerHeight = footerText.height + 2 * padding;
  const footer = { x: 0, y: height - footerHeight, width, height: footerHeight };

  // A view outside the validated domain gets no finding, so none of its boxes is drawn.
  const shown = view.domain?.outside ? [] : boxesToShow(view.boxes, result.operatingThreshold, options.showBelowThreshold);
  const drawn = await Promise.all(
    shown.map(async (box, i) => {
      const aboveThreshold = box.confidence >= result.operatingThreshold;
      // Numbered in the view's order of boxes (most confident first), as in the JSON and the summary.
      const number = view.boxes.indexOf(box) + 1;
      const text = await renderText(`#${number} ${box.confidence.toFixed(2)} (${box.foldsAgreeing}/${box.foldCount} folds)${aboveThreshold ? '' : ' below threshold'}`, font);
      return { box, aboveThreshold, finding: i === 0 && aboveThreshold, text };
    }),
  );
  const labels = placeLabels(
    drawn.map((d) => ({ box: d.box, size: { width: d.text.width + 2 * padding, height: font + 2 * padding } })),
    { bounds: { x: 0, y: 0, width, height }, reserved: [footer], gap: stroke },
  );
  const boxes = drawn.map((d, i) => ({ ...d, label: labels[i] })).reverse();
  return { width, height, stroke, padding, boxes, footer, footerText };
}

const n = (value: number) => value.toFixed(1);

function darkRect(r: LayoutRect): string {
  return `<rect x="${n(r.x)}" y="${n(r.y)}" width="${n(r.width)}" height="${n(r.height)}" fill="#000000" fill-opacity="0.75"/>`;
}

/** Outlines (the finding last), then the dark boxes of the footer and of the labels that the text goes on. */
function overlaySvg(layout: AnnotationLayout): string {
  const { stroke } = layout;
  const outlines = layout.boxes.map(({ box, aboveThreshold, finding }) => {
    const width = finding ? stroke * 1.5 : stroke;
    const dash = aboveThreshold ? '' : ` stroke-dasharray="${stroke * 4},${stroke * 3}"`;
    const rect = `x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" fill="none"`;
    return `<rect ${rect} stroke="#000000" stroke-width="${width + 2}"/><rect ${rect} stroke="${aboveThreshold ? '#ffd400' : '#00c8ff'}" stroke-width="${width}"${dash}/>`;
  });
  const backgrounds = [layout.footer, ...layout.boxes.flatMap((b) => (b.label ? [b.label] : []))].map(darkRect);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}">${outlines.join('')}${backgrounds.join('')}</svg>`;
}

/** The overlay and each text where the layout puts it (a label's text centred in its box). */
function composites(layout: AnnotationLayout): OverlayOptions[] {
  const at = (text: RenderedText, x: number, y: number) => ({ input: text.png, left: Math.round(x), top: Math.round(y) });
  const labels = layout.boxes.flatMap(({ label, text }) =>
    label ? [at(text, label.x + (label.width - text.width) / 2, label.y + (label.height - text.height) / 2)] : [],
  );
  return [
    { input: Buffer.from(overlaySvg(layout)), top: 0, left: 0 },
    at(layout.footerText, layout.padding, layout.footer.y + layout.padding),
    ...labels,
  ];
}

export async function annotatedPng(image: Gray8Image, view: ViewFinding, result: Pick<AnalysisResult, 'model' | 'operatingThreshold'>, options: AnnotationOptions): Promise<Buffer> {
  const layout = await annotationLayout(image.width, image.height, view, result, options);
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 1 },
  })
    .toColourspace('srgb')
    .composite(composites(layout))
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
