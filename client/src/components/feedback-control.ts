/** "Agree" or "disagree, because…" on the AI result, sent by the app as CDS Hooks feedback. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { FeedbackOutcome } from '../study-source';

export type FeedbackSubmitEvent = CustomEvent<FeedbackOutcome>;
export type FeedbackStatus = 'idle' | 'sending' | 'sent' | 'failed';

/** The coded override reasons the service accepts (cds-hooks/cards.ts OVERRIDE_REASONS). */
const REASONS = [
  { code: 'disagree', label: 'Disagree with the AI finding' },
  { code: 'already-known', label: 'Lesion already known' },
  { code: 'image-quality', label: 'Image quality too poor' },
];

@customElement('feedback-control')
export class FeedbackControl extends LitElement {
  static override styles = css`
    :host { display: block; }
    fieldset { border: 1px solid #8a939c; border-radius: 6px; display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; }
    button, select { font: inherit; min-height: 2.25rem; background: #22262b; color: #fff; border: 1px solid #8a939c; border-radius: 4px; }
    button:focus-visible, select:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    [role='status'] { margin: 0; }
  `;

  @property() status: FeedbackStatus = 'idle';
  @state() private reason = REASONS[0]?.code ?? 'disagree';

  private submit(feedback: FeedbackOutcome): void {
    this.dispatchEvent(new CustomEvent<FeedbackOutcome>('feedback-submit', { detail: feedback, bubbles: true, composed: true }));
  }

  private statusText() {
    if (this.status === 'sending') return 'Sending…';
    if (this.status === 'sent') return 'Thank you: your feedback was recorded.';
    if (this.status === 'failed') return 'Your feedback could not be sent. Try again.';
    return nothing;
  }

  override render() {
    const busy = this.status === 'sending';
    return html`<fieldset>
      <legend>Your assessment of the AI result</legend>
      <button ?disabled=${busy} @click=${() => this.submit({ outcome: 'accepted' })}>Agree</button>
      <label>
        Reason
        <select @change=${(e: Event) => (this.reason = (e.target as HTMLSelectElement).value)}>
          ${REASONS.map((r) => html`<option value=${r.code} ?selected=${r.code === this.reason}>${r.label}</option>`)}
        </select>
      </label>
      <button ?disabled=${busy} @click=${() => this.submit({ outcome: 'overridden', reason: this.reason })}>Disagree</button>
      <p role="status">${this.statusText()}</p>
    </fieldset>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'feedback-control': FeedbackControl;
  }
  interface HTMLElementEventMap {
    'feedback-submit': FeedbackSubmitEvent;
  }
}
