/**
 * Display settings shared by both views: boxes on/off, the boxes below the operating threshold
 * (hidden by default, so that the finding stands alone; the toggle says how many there are) and
 * window/level.
 */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { FULL_WINDOW, type WindowLevel } from '../window-level';

export interface DisplaySettings {
  showBoxes: boolean;
  showBelowThreshold: boolean;
  windowLevel: WindowLevel;
}

export type DisplayChangeEvent = CustomEvent<DisplaySettings>;

export const DEFAULT_DISPLAY: DisplaySettings = { showBoxes: true, showBelowThreshold: false, windowLevel: FULL_WINDOW };

@customElement('display-controls')
export class DisplayControls extends LitElement {
  static override styles = css`
    :host { display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; align-items: center; }
    label { display: flex; align-items: center; gap: 0.5rem; }
    input[type='range'] { width: 9rem; }
    label:has(input:disabled) { color: #aab2ba; }
    input:focus-visible, button:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    button { font: inherit; min-height: 2.25rem; background: #22262b; color: #fff; border: 1px solid #8a939c; border-radius: 4px; }
    output { font-variant-numeric: tabular-nums; min-width: 2.5rem; }
  `;

  @property({ attribute: false }) settings: DisplaySettings = DEFAULT_DISPLAY;
  /** How many boxes of the study are below the operating threshold. */
  @property({ type: Number }) belowThresholdCount = 0;

  private change(patch: Partial<DisplaySettings>): void {
    this.dispatchEvent(new CustomEvent<DisplaySettings>('display-change', { detail: { ...this.settings, ...patch }, bubbles: true, composed: true }));
  }

  private checked(event: Event): boolean {
    return (event.target as HTMLInputElement).checked;
  }

  private number(event: Event): number {
    return Number((event.target as HTMLInputElement).value);
  }

  override render() {
    const { showBoxes, showBelowThreshold, windowLevel } = this.settings;
    return html`
      <label><input type="checkbox" .checked=${showBoxes} @change=${(e: Event) => this.change({ showBoxes: this.checked(e) })} /> Show AI boxes</label>
      <label>
        <input type="checkbox" name="show-below-threshold" .checked=${showBelowThreshold} ?disabled=${!showBoxes || this.belowThresholdCount === 0}
          @change=${(e: Event) => this.change({ showBelowThreshold: this.checked(e) })} />
        Show boxes below the threshold (${this.belowThresholdCount})
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
