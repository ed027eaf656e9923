/**
 * The viewer app: the launch patient's knee studies, the AI decision and both views with their
 * boxes, display controls and feedback. Every failure ends in a message that says what happened
 * and what to do (expired session, tokens the service cannot check, access refused by the server's
 * set-up, another patient's data, no result, failed analysis, missing view), never a blank page.
 * Nothing the FHIR server returns is shown before it is checked to be the launch patient's
 * (study-source.ts), so another patient's study, report or score is never on screen.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { VIEWS, VIEW_LABELS, type AnalysisState, type PatientSummary, type StudyItem, type StudyResult, type ViewName } from '../model';
import type { LaunchContext } from '../smart';
import { AccessRefusedError, NotThisPatientError, SessionExpiredError, TokenUnverifiableError } from '../api-errors';
import type { StudySource } from '../study-source';
import { countBelowThreshold } from '../../../server/src/domain/box-layout';
import { DEFAULT_DISPLAY, type DisplayChangeEvent, type DisplaySettings } from './display-controls';
import type { FeedbackStatus, FeedbackSubmitEvent } from './feedback-control';
import type { StudySelectEvent } from './study-panel';
import './decision-banner';
import './display-controls';
import './feedback-control';
import './radiograph-viewer';
import './study-panel';
import { messageOf } from '../../../server/src/errors';

type Phase =
  | { kind: 'loading' }
  | { kind: 'ready' }
  | { kind: 'expired' }
  | { kind: 'unverifiable'; reason: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'not-this-patient'; message: string }
  | { kind: 'error'; message: string };

/** An error that ends the whole view rather than one image or one feedback. */
const endsTheView = (error: unknown) =>
  error instanceof SessionExpiredError || error instanceof TokenUnverifiableError || error instanceof AccessRefusedError || error instanceof NotThisPatientError;

function phaseOf(error: unknown): Phase {
  if (error instanceof SessionExpiredError) return { kind: 'expired' };
  if (error instanceof TokenUnverifiableError) return { kind: 'unverifiable', reason: error.message };
  if (error instanceof AccessRefusedError) return { kind: 'refused', reason: error.message };
  if (error instanceof NotThisPatientError) return { kind: 'not-this-patient', message: error.message };
  return { kind: 'error', message: messageOf(error) };
}

function noResultMessage(state: AnalysisState): string {
  if (state.state === 'failed') return `The AI analysis of this study failed: ${state.reason ?? 'no reason given'}. Read the images as usual.`;
  if (state.state === 'queued' || state.state === 'running') return 'The AI analysis of this study is in progress. Open the viewer again in a minute.';
  return 'This study has no AI result: it was not analysed.';
}

@customElement('knee-app')
export class KneeApp extends LitElement {
  static override styles = css`
    :host { display: block; max-width: 1600px; margin: 0 auto; padding: 0.5rem 1rem 1.5rem; }
    .views { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; margin: 0.75rem 0; }
    .panel { display: grid; gap: 0.75rem; }
    .alert { border: 2px solid #ffd400; border-radius: 6px; padding: 1rem; background: #1d2228; }
    .alert h1 { margin-top: 0; font-size: 1.3rem; }
  `;

  @property({ attribute: false }) source?: StudySource;
  @property({ attribute: false }) context: LaunchContext = {};

  @state() private phase: Phase = { kind: 'loading' };
  @state() private patient?: PatientSummary;
  @state() private studies: StudyItem[] = [];
  @state() private selected?: StudyItem;
  @state() private result?: StudyResult;
  @state() private noResult?: string;
  @state() private images: Partial<Record<ViewName, string>> = {};
  @state() private imageErrors: Partial<Record<ViewName, string>> = {};
  @state() private display: DisplaySettings = DEFAULT_DISPLAY;
  @state() private feedback: FeedbackStatus = 'idle';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.guard(() => this.start());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.releaseImages();
  }

  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.phase = phaseOf(error);
    }
  }

  private async start(): Promise<void> {
    if (!this.source) return;
    const [patient, studies] = await Promise.all([this.source.patient(), this.source.studies()]);
    this.patient = patient;
    this.studies = studies;
    const wanted = this.studies.find(
      (s) => `ImagingStudy/${s.imagingStudyId}` === this.context.imagingStudy || s.studyInstanceUid === this.context.studyInstanceUid,
    );
    // The study the viewer was opened for is not among the launch patient's: it is another's.
    if (!wanted && (this.context.imagingStudy || this.context.studyInstanceUid)) throw new NotThisPatientError('study this viewer was opened for');
    const first = wanted ?? this.studies[0];
    if (!first) throw new Error('This patient has no knee radiograph study.');
    await this.show(first);
  }

  private releaseImages(): void {
    for (const url of Object.values(this.images)) if (url) URL.revokeObjectURL(url);
    this.images = {};
  }

  private async show(study: StudyItem): Promise<void> {
    const source = this.source;
    if (!source) return;
    this.phase = { kind: 'loading' };
    this.selected = study;
    this.releaseImages();
    this.imageErrors = {};
    this.feedback = 'idle';
    this.result = await source.result(study);
    this.noResult = this.result ? undefined : noResultMessage(await source.analysisState(study));
    this.phase = { kind: 'ready' };
    const result = this.result;
    if (!result) return;
    await Promise.all(
      VIEWS.map(async (view) => {
        const sop = result.views[view]?.sopInstanceUid;
        if (!sop) return;
        try {
          const url = await source.image(study, sop);
          this.images = { ...this.images, [view]: url };
        } catch (error) {
          if (endsTheView(error)) throw error;
          this.imageErrors = { ...this.imageErrors, [view]: `The ${VIEW_LABELS[view]} image could not be loaded from the PACS (${messageOf(error)}).` };
        }
      }),
    );
  }

  private async sendFeedback(event: FeedbackSubmitEvent): Promise<void> {
    if (!this.source || !this.result) return;
    this.feedback = 'sending';
    try {
      await this.source.sendFeedback(this.result.report, event.detail);
      this.feedback = 'sent';
    } catch (error) {
      if (endsTheView(error)) throw error;
      this.feedback = 'failed';
    }
  }

  /** The study's boxes below the operating threshold, which the viewers hide until asked. */
  private belowThresholdCount(): number {
    const threshold = this.result?.operatingThreshold;
    if (threshold === undefined) return 0;
    // A view outside the validated domain draws no boxes at all, so it has none to reveal.
    const shown = VIEWS.map((view) => this.result?.views[view]).filter((v) => !v?.domain?.outside);
    return shown.reduce((sum, v) => sum + countBelowThreshold(v?.boxes ?? [], threshold), 0);
  }

  private renderView(view: ViewName) {
    const label = VIEW_LABELS[view];
    const finding = this.result?.views[view];
    const missing = finding ? undefined : `This study has no ${label} view. The AI needs both the AP and the lateral view; read the images in the PACS viewer.`;
    return html`<radiograph-viewer
      label=${label}
      .src=${this.images[view]}
      .message=${missing ?? this.imageErrors[view]}
      .boxes=${finding?.boxes ?? []}
      .showBoxes=${this.display.showBoxes}
      .showBelowThreshold=${this.display.showBelowThreshold}
      .operatingThreshold=${this.result?.operatingThreshold}
      .outsideDomain=${finding?.domain?.outside ?? false}
      .windowLevel=${this.display.windowLevel}
    ></radiograph-viewer>`;
  }

  override render() {
    if (this.phase.kind === 'expired') {
      return html`<section class="alert" role="alert"><h1>Your session has ended</h1>
        <p>For the patient's safety the viewer stops when its access expires. Open it again from the patient's chart.</p></section>`;
    }
    if (this.phase.kind === 'unverifiable') {
      return html`<section class="alert" role="alert"><h1>The viewer cannot check this EHR's access tokens</h1>
        <p>${this.phase.reason}</p>
        <p>This is how the service is set up for your EHR, not an ended session. Tell your EHR's integrator what this page says.</p></section>`;
    }
    if (this.phase.kind === 'not-this-patient') {
      return html`<section class="alert" role="alert"><h1>Not this patient's study</h1>
        <p>${this.phase.message}</p>
        <p>Tell your EHR's integrator: the EHR's FHIR server answered with another patient's records.</p></section>`;
    }
    if (this.phase.kind === 'refused') {
      return html`<section class="alert" role="alert"><h1>The server refused access to the images</h1>
        <p>${this.phase.reason}</p>
        <p>Opening the viewer again will not help: this is how the service or the EHR is set up. Tell your EHR's integrator what this page says.</p></section>`;
    }
    if (this.phase.kind === 'error') {
      return html`<section class="alert" role="alert"><h1>The viewer could not open the study</h1><p>${this.phase.message}</p></section>`;
    }
    return html`
      <div class="panel">
        <study-panel .patient=${this.patient} .studies=${this.studies} selected=${this.selected?.imagingStudyId ?? ''}
          @study-select=${(e: StudySelectEvent) => {
            const study = this.studies.find((s) => s.imagingStudyId === e.detail);
            if (study) void this.guard(() => this.show(study));
          }}></study-panel>
        ${this.phase.kind === 'loading' ? html`<p role="status">Loading the study…</p>` : nothing}
        ${this.noResult ? html`<section class="alert" role="alert"><h1>No AI result</h1><p>${this.noResult}</p></section>` : nothing}
        <decision-banner .result=${this.result}></decision-banner>
        ${this.result
          ? html`<display-controls .settings=${this.display} .belowThresholdCount=${this.belowThresholdCount()} @display-change=${(e: DisplayChangeEvent) => (this.display = e.detail)}></display-controls>`
          : nothing}
      </div>
      ${this.result ? html`<div class="views">${VIEWS.map((v) => this.renderView(v))}</div>` : nothing}
      ${this.result ? html`<feedback-control status=${this.feedback} @feedback-submit=${(e: FeedbackSubmitEvent) => void this.guard(() => this.sendFeedback(e))}></feedback-control>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'knee-app': KneeApp;
  }
}
