/**
 * The patient-level AI decision, the model that made it, and that it is not a diagnosis; a view
 * outside the model's validated domain is named, with what that means, and gives no finding. A result
 * of a demonstration model (read from the report's intended-use marker) says first that its
 * findings on real radiographs are not meaningful, and never looks like an alert.
 */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { AI_NOTICE, DEMONSTRATION_MODEL_NOTICE } from '../../../server/src/domain/analysis';
import { CONFIDENCE_MEANING, OUTSIDE_DOMAIN_MEANING, findingSentence } from '../../../server/src/domain/wording';
import { findingFacts } from '../../../fhir-profiles/read-report';
import type { StudyResult } from '../model';

@customElement('decision-banner')
export class DecisionBanner extends LitElement {
  static override styles = css`
    :host { display: block; }
    section { border: 2px solid; border-radius: 6px; padding: 0.5rem 0.75rem; }
    .positive { border-color: #ffd400; background: #3a3000; }
    .negative, .demonstration { border-color: #8a939c; background: #1d2228; }
    h2 { margin: 0 0 0.25rem; font-size: 1.1rem; }
    p { margin: 0.2rem 0; }
    .notice { font-weight: 600; }
    .demonstration-notice { font-weight: 700; color: #ffb3a8; }
  `;

  @property({ attribute: false }) result?: StudyResult;

  override render() {
    const r = this.result;
    if (!r) return html``;
    const demonstration = r.intendedUse === 'demonstration';
    const facts = findingFacts(r);
    const finding = r.positive ? 'possible bone tumor' : r.abstained ? 'no result, outside the validated domain' : 'no bone tumor detected';
    const mark = r.positive ? '⚠' : r.abstained ? '∅' : '✓';
    const heading = demonstration ? `Demonstration model: ${finding}` : `${mark} AI finding: ${finding}`;
    const style = demonstration ? 'demonstration' : r.positive ? 'positive' : 'negative';
    return html`<section class=${style} role="region" aria-label="AI decision">
      <h2>${heading}</h2>
      ${demonstration ? html`<p class="demonstration-notice" role="note">${DEMONSTRATION_MODEL_NOTICE}</p>` : ''}
      <p>${facts ? findingSentence(facts) : r.conclusion}</p>
      ${r.outsideDomain.length > 0 ? html`<p class="outside-domain" role="note">${OUTSIDE_DOMAIN_MEANING}</p>` : ''}
      ${facts && !r.abstained ? html`<p>${CONFIDENCE_MEANING}</p>` : ''}
      <p>Model: ${r.model}.</p>
      <p class="notice">${AI_NOTICE}</p>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'decision-banner': DecisionBanner;
  }
}
