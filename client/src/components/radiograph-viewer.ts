/**
 * One radiograph with its AI boxes drawn as SVG over it. The image and the boxes are both placed
 * from geometry.ts's Transform, recomputed on zoom, pan and viewport resize. Boxes at or above the
 * operating threshold are solid; those below are shown only on request, dashed, so nothing is told
 * by colour alone. Each has a numbered label placed by box-layout.ts (the annotated PNG's layout
 * too): the finding's label first, so that no other label covers it, and the finding drawn last.
 * Keyboard: + and - zoom, arrows pan, 0 resets.
 */
import { LitElement, css, html, svg, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { boxesToShow, countBelowThreshold, placeLabels } from '../../../server/src/domain/box-layout';
import { OUTSIDE_DOMAIN_MEANING } from '../../../server/src/domain/wording';
import { FITTED, imageCssTransform, imageRectToViewport, panBy, viewTransform, viewportCentre, zoomAbout, type Size, type ViewState } from '../geometry';
import type { LesionBox } from '../model';
import { FULL_WINDOW, linearTransfer, type WindowLevel } from '../window-level';

const PAN_STEP = 40;
const ZOOM_STEP = 1.25;
const LABEL_FONT_PX = 14;
const LABEL_FONT_FAMILY = 'system-ui, sans-serif';
const LABEL_PADDING = 3;
const LABEL_GAP = 4;

let measuring: CanvasRenderingContext2D | null | undefined;

/** The label's text width in the font the SVG draws it with. */
function textWidth(text: string): number {
  measuring ??= document.createElement('canvas').getContext('2d');
  if (!measuring) return text.length * LABEL_FONT_PX * 0.6; // no 2D canvas: a generous estimate
  measuring.font = `${LABEL_FONT_PX}px ${LABEL_FONT_FAMILY}`;
  return measuring.measureText(text).width;
}

@customElement('radiograph-viewer')
export class RadiographViewer extends LitElement {
  static override styles = css`
    :host { display: flex; flex-direction: column; min-width: 0; }
    header { display: flex; align-items: center; gap: 0.5rem; padding: 0.25rem 0; }
    h2 { font-size: 1rem; margin: 0 auto 0 0; }
    button { font: inherit; min-width: 2.5rem; min-height: 2.25rem; background: #22262b; color: #fff; border: 1px solid #8a939c; border-radius: 4px; }
    button:focus-visible, .viewport:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .viewport { position: relative; overflow: hidden; background: #000; height: 60vh; min-height: 280px; touch-action: none; cursor: grab; }
    img { position: absolute; left: 0; top: 0; transform-origin: 0 0; user-select: none; -webkit-user-drag: none; }
    svg.overlay { position: absolute; inset: 0; pointer-events: none; }
    .message { position: absolute; inset: 0; display: grid; place-items: center; padding: 1rem; text-align: center; color: #fff; font-size: 1.05rem; }
    ol { margin: 0.25rem 0 0; padding-left: 1.5rem; font-size: 0.9rem; }
  `;

  /** e.g. "AP" or "Lateral" */
  @property() label = '';
  /** Object URL of the rendered image; unset while loading. */
  @property() src?: string;
  /** Shown instead of the image: a missing view or an image that could not be loaded. */
  @property() message?: string;
  @property({ attribute: false }) boxes: LesionBox[] = [];
  @property({ type: Boolean }) showBoxes = true;
  @property({ type: Boolean }) showBelowThreshold = false;
  /** The report's operating threshold; no box is drawn without it. */
  @property({ type: Number }) operatingThreshold?: number;
  /** The view lies outside the model's validated domain: its boxes mean nothing and are not drawn. */
  @property({ type: Boolean }) outsideDomain = false;
  @property({ attribute: false }) windowLevel: WindowLevel = FULL_WINDOW;

  @state() private view: ViewState = FITTED;
  @state() private viewport: Size = { width: 0, height: 0 };
  @state() private image?: Size;
  @query('.viewport') private viewportElement?: HTMLDivElement;
  private readonly resizeObserver = new ResizeObserver(([entry]) => {
    if (entry) this.viewport = { width: entry.contentRect.width, height: entry.contentRect.height };
  });
  private drag?: { pointer: number; x: number; y: number };

  override firstUpdated(): void {
    if (this.viewportElement) this.resizeObserver.observe(this.viewportElement);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('src')) {
      this.image = undefined;
      this.view = FITTED;
    }
  }

  private zoom(factor: number, anchor = viewportCentre(this.viewport)): void {
    if (this.image) this.view = zoomAbout(this.image, this.viewport, this.view, factor, anchor);
  }

  private onKey(event: KeyboardEvent): void {
    const actions: Record<string, () => void> = {
      '+': () => this.zoom(ZOOM_STEP),
      '=': () => this.zoom(ZOOM_STEP),
      '-': () => this.zoom(1 / ZOOM_STEP),
      '0': () => (this.view = FITTED),
      ArrowLeft: () => (this.view = panBy(this.view, PAN_STEP, 0)),
      ArrowRight: () => (this.view = panBy(this.view, -PAN_STEP, 0)),
      ArrowUp: () => (this.view = panBy(this.view, 0, PAN_STEP)),
      ArrowDown: () => (this.view = panBy(this.view, 0, -PAN_STEP)),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    const bounds = (event.currentTarget as HTMLElement).getBoundingClientRect();
    this.zoom(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, { x: event.clientX - bounds.left, y: event.clientY - bounds.top });
  }

  private onPointerDown(event: PointerEvent): void {
    (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    this.drag = { pointer: event.pointerId, x: event.clientX, y: event.clientY };
  }

  private onPointerMove(event: PointerEvent): void {
    if (this.drag?.pointer !== event.pointerId) return;
    this.view = panBy(this.view, event.clientX - this.drag.x, event.clientY - this.drag.y);
    this.drag = { pointer: event.pointerId, x: event.clientX, y: event.clientY };
  }

  private onPointerUp(): void {
    this.drag = undefined;
  }

  private onImageLoad(event: Event): void {
    const img = event.target as HTMLImageElement;
    this.image = { width: img.naturalWidth, height: img.naturalHeight };
  }

  /** The boxes shown, most important first (the finding first). */
  private visibleBoxes(): LesionBox[] {
    if (this.outsideDomain || !this.showBoxes || this.operatingThreshold === undefined) return [];
    return boxesToShow(this.boxes, this.operatingThreshold, this.showBelowThreshold);
  }

  private labelText(b: LesionBox, above: boolean): string {
    return `${this.boxes.indexOf(b) + 1}: ${b.confidence.toFixed(2)}, ${b.foldsAgreeing}/${b.foldCount}${above ? '' : ' (below threshold)'}`;
  }

  /** Outlines, then labels, each least important first, so that the finding's outline and label end on top. */
  private renderBoxes(boxes: LesionBox[]) {
    const threshold = this.operatingThreshold;
    if (!this.image || this.viewport.width === 0 || threshold === undefined) return nothing;
    const t = viewTransform(this.image, this.viewport, this.view);
    const drawn = boxes.map((b, i) => {
      const above = b.confidence >= threshold;
      return { box: b, rect: imageRectToViewport(t, b), above, finding: i === 0 && above, text: this.labelText(b, above) };
    });
    const labels = placeLabels(
      drawn.map((d) => ({ box: d.rect, size: { width: textWidth(d.text) + 2 * LABEL_PADDING, height: LABEL_FONT_PX + 2 * LABEL_PADDING + 2 } })),
      { bounds: { x: 0, y: 0, ...this.viewport }, reserved: [], gap: LABEL_GAP },
    );
    const placed = drawn.map((d, i) => ({ ...d, label: labels[i] })).reverse();
    return svg`${repeat(
      placed,
      (d) => d.box.id,
      ({ box, rect: r, above, finding }) => svg`<g class="box" data-box-id=${box.id} data-above-threshold=${above} data-finding=${finding}>
          <rect x=${r.x} y=${r.y} width=${r.width} height=${r.height} fill="none" stroke="#000" stroke-width=${finding ? 6 : 5} />
          <rect class="outline" x=${r.x} y=${r.y} width=${r.width} height=${r.height} fill="none" stroke=${above ? '#ffd400' : '#5ce1e6'} stroke-width=${finding ? 3.5 : 2.5} stroke-dasharray=${above ? 'none' : '8 5'} />
        </g>`,
    )}${repeat(
      placed.flatMap(({ label, ...d }) => (label ? [{ ...d, label }] : [])),
      (d) => d.box.id,
      ({ box, label, text, finding }) => svg`<g class="label" data-box-id=${box.id} data-finding=${finding}>
          <rect x=${label.x} y=${label.y} width=${label.width} height=${label.height} rx="3" fill="#000" fill-opacity="0.75" />
          <text x=${label.x + LABEL_PADDING} y=${label.y + LABEL_PADDING + LABEL_FONT_PX} fill="#fff" font-size=${LABEL_FONT_PX} font-family=${LABEL_FONT_FAMILY}>${text}</text>
        </g>`,
    )}`;
  }

  /** The shown boxes in words, and what is not drawn and why. */
  private renderList(boxes: LesionBox[]) {
    if (this.outsideDomain) {
      return html`<ol aria-label="AI boxes on the ${this.label} view">
        <li class="outside-domain">No AI boxes: this view is outside the model's validated domain. ${OUTSIDE_DOMAIN_MEANING}</li>
      </ol>`;
    }
    const threshold = this.operatingThreshold;
    const hidden = threshold !== undefined && this.showBoxes && !this.showBelowThreshold ? countBelowThreshold(this.boxes, threshold) : 0;
    const plural = (count: number) => `${count} box${count === 1 ? '' : 'es'}`;
    return html`<ol aria-label="AI boxes on the ${this.label} view">
      ${threshold === undefined && this.boxes.length > 0
        ? html`<li>The report gives no operating threshold, so its ${plural(this.boxes.length)} on this view are not drawn.</li>`
        : nothing}
      ${boxes.length === 0 ? html`<li>No AI box shown on this view.</li>` : nothing}
      ${boxes.map((b, i) => {
        const above = threshold !== undefined && b.confidence >= threshold;
        return html`<li>
          Box ${this.boxes.indexOf(b) + 1}${i === 0 && above ? ' (the finding)' : ''}: confidence ${b.confidence.toFixed(2)}, ${b.foldsAgreeing} of ${b.foldCount} models agree,
          ${above ? 'at or above the operating threshold (solid)' : 'below the operating threshold (dashed)'}.
        </li>`;
      })}
      ${hidden > 0 ? html`<li>${plural(hidden)} below the operating threshold not shown.</li>` : nothing}
    </ol>`;
  }

  override render() {
    const t = this.image && this.viewport.width > 0 ? viewTransform(this.image, this.viewport, this.view) : undefined;
    const { slope, intercept } = linearTransfer(this.windowLevel);
    const filterId = `wl-${this.label}`;
    const boxes = this.visibleBoxes();
    return html`
      <header>
        <h2>${this.label} view</h2>
        <button @click=${() => this.zoom(1 / ZOOM_STEP)} aria-label="Zoom out of the ${this.label} view">−</button>
        <button @click=${() => this.zoom(ZOOM_STEP)} aria-label="Zoom into the ${this.label} view">+</button>
        <button @click=${() => (this.view = FITTED)}>Fit</button>
      </header>
      <div
        class="viewport"
        tabindex="0"
        role="img"
        aria-label="${this.label} radiograph, ${boxes.length} AI box${boxes.length === 1 ? '' : 'es'} shown. Plus and minus zoom, arrow keys pan, 0 fits."
        @keydown=${this.onKey}
        @wheel=${this.onWheel}
        @pointerdown=${this.onPointerDown}
        @pointermove=${this.onPointerMove}
        @pointerup=${this.onPointerUp}
        @pointercancel=${this.onPointerUp}
      >
        <svg width="0" height="0" aria-hidden="true">
          <filter id=${filterId} color-interpolation-filters="sRGB">
            <feComponentTransfer>
              <feFuncR type="linear" slope=${slope} intercept=${intercept} />
              <feFuncG type="linear" slope=${slope} intercept=${intercept} />
              <feFuncB type="linear" slope=${slope} intercept=${intercept} />
            </feComponentTransfer>
          </filter>
        </svg>
        ${this.message
          ? html`<p class="message" role="status">${this.message}</p>`
          : this.src
            ? html`<img
                src=${this.src}
                alt=""
                draggable="false"
                @load=${this.onImageLoad}
                style="transform: ${t ? imageCssTransform(t) : 'scale(0)'}; filter: url(#${filterId})"
              />`
            : html`<p class="message" role="status">Loading the ${this.label} image…</p>`}
        <svg class="overlay" width=${this.viewport.width} height=${this.viewport.height} aria-hidden="true">${this.renderBoxes(boxes)}</svg>
      </div>
      ${this.message ? nothing : this.renderList(boxes)}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'radiograph-viewer': RadiographViewer;
  }
}
