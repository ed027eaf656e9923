/** The patient, the study shown, and stepping between the patient's earlier knee studies. */
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { PatientSummary, StudyItem } from '../model';

/** The ImagingStudy id of the study to show. */
export type StudySelectEvent = CustomEvent<string>;

function studyName(s: StudyItem): string {
  return `${s.started ? s.started.slice(0, 10) : 'undated'}${s.description ? ` – ${s.description}` : ''}`;
}

@customElement('study-panel')
export class StudyPanel extends LitElement {
  static override styles = css`
    :host { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: center; }
    h1 { font-size: 1.2rem; margin: 0; }
    .nav { display: flex; gap: 0.5rem; align-items: center; }
    button, select { font: inherit; min-height: 2.25rem; background: #22262b; color: #fff; border: 1px solid #8a939c; border-radius: 4px; }
    button:disabled { opacity: 0.5; }
    button:focus-visible, select:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
  `;

  @property({ attribute: false }) patient?: PatientSummary;
  @property({ attribute: false }) studies: StudyItem[] = [];
  @property() selected?: string;

  private select(id: string | undefined): void {
    if (id) this.dispatchEvent(new CustomEvent<string>('study-select', { detail: id, bubbles: true, composed: true }));
  }

  override render() {
    const index = this.studies.findIndex((s) => s.imagingStudyId === this.selected);
    const p = this.patient;
    return html`
      <h1>${p ? `${p.name}${p.birthDate ? `, born ${p.birthDate}` : ''}${p.gender ? `, ${p.gender}` : ''}` : 'Loading the patient…'}</h1>
      <div class="nav">
        <button ?disabled=${index >= this.studies.length - 1} @click=${() => this.select(this.studies[index + 1]?.imagingStudyId)}>◀ Earlier study</button>
        <label>
          Knee study
          <select @change=${(e: Event) => this.select((e.target as HTMLSelectElement).value)}>
            ${this.studies.map((s) => html`<option value=${s.imagingStudyId} ?selected=${s.imagingStudyId === this.selected}>${studyName(s)}</option>`)}
          </select>
        </label>
        <button ?disabled=${index <= 0} @click=${() => this.select(this.studies[index - 1]?.imagingStudyId)}>Later study ▶</button>
      </div>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'study-panel': StudyPanel;
  }
  interface HTMLElementEventMap {
    'study-select': StudySelectEvent;
  }
}
