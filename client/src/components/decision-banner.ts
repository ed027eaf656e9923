/** The patient-level AI decision, the model that made it, and that it is not a diagnosis. */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { StudyResult } from '../model';

@customElement('decision-banner')
export class DecisionBanner extends LitElement {
  static override styles = css`
    :host { display: block; }
    section { border: 2px solid; border-radius: 6px; padding: 0.5rem 0.75rem; }
    .positive { border-color: #ffd400; background: #3a3000; }
    .negative { border-color: #8a939c; background: #1d2228; }
    h2 { margin: 0 0 0.25rem; font-size: 1.1rem; }
    p { margin: 0.2rem 0; }
    .notice { font-weight: 600; }
  `;

  @property({ attribute: false }) result?: StudyResult;

  override render() {
    const r = this.result;
    if (!r) return html``;
    return html`<section class=${r.positive ? 'positive' : 'negative'} role="region" aria-label="AI decision">
      <h2>${r.positive ? '⚠ AI finding: possible bone tumor' : '✓ AI finding: no bone tumor detected'}</h2>
      <p>${r.conclusion}</p>
      <p>Patient score ${r.score.toFixed(2)}, operating threshold ${r.operatingThreshold.toFixed(2)}. Model: ${r.model}.</p>
      <p class="notice">AI-generated preliminary result, not for diagnosis: a clinician must review the images.</p>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'decision-banner': DecisionBanner;
  }
}
