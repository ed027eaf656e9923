/** Display settings shared by both views: boxes on/off, confidence filter, window/level. */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { FULL_WINDOW, type WindowLevel } from '../window-level';

export interface DisplaySettings {
  showBoxes: boolean;
  minConfidence: number;
  windowLevel: WindowLevel;
}

export type DisplayChangeEvent = CustomEvent<DisplaySettings>;

@customElement('display-controls')
export class DisplayControls extends LitElement {
  static override styles = css`
    :host { display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; align-items: center; }
    label { display: flex; align-items: center; gap: 0.5rem; }
    input[type='range'] { width: 9rem; }
    input:focus-visible, button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    button { font: inherit; min-height: 2.25rem; background: #22262b; color: #fff; border: 1px solid #8a939c; border-radius: 4px; }
    output { font-variant-numeric: tabular-nums; min-width: 2.5rem; }
  `;

  @property({ attribute: false }) settings: DisplaySettings = { showBoxes: true, minConfidence: 0, windowLevel: FULL_WINDOW };

  private change(patch: Partial<DisplaySettings>): void {
    this.dispatchEvent(new CustomEvent<DisplaySettings>('display-change', { detail: { ...this.settings, ...patch }, bubbles: true, composed: true }));
  }

  private number(event: Event): number {
    return Number((event.target as HTMLInputElement).value);
  }

  override render() {
    const { showBoxes, minConfidence, windowLevel } = this.settings;
    return html`
      <label><input type="checkbox" .checked=${showBoxes} @change=${(e: Event) => this.change({ showBoxes: (e.target as HTMLInputElement).checked })} /> Show AI boxes</label>
      <label>
        Show boxes with confidence ≥
        <input type="range" name="min-confidence" min="0" max="1" step="0.01" .value=${String(minConfidence)} @input=${(e: Event) => this.change({ minConfidence: this.number(e) })} />
        <output>${minConfidence.toFixed(2)}</output>
      </label>
      <label>
        Level
        <input type="range" name="window-centre" min="0" max="255" step="1" .value=${String(windowLevel.centre)} @input=${(e: Event) => this.change({ windowLevel: { ...windowLevel, centre: this.number(e) } })} />
        <output>${Math.round(windowLevel.centre)}</output>
      </label>
      <label>
        Window
        <input type="range" name="window-width" min="1" max="255" step="1" .value=${String(windowLevel.width)} @input=${(e: Event) => this.change({ windowLevel: { ...windowLevel, width: this.number(e) } })} />
        <output>${Math.round(windowLevel.width)}</output>
      </label>
      <button @click=${() => this.change({ windowLevel: FULL_WINDOW })}>Reset window</button>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'display-controls': DisplayControls;
  }
  interface HTMLElementEventMap {
    'display-change': DisplayChangeEvent;
  }
}
