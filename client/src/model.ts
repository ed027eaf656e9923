/** What the viewer shows, read from the FHIR report and its Observations. */

export type ViewName = 'AP' | 'LATERAL';
export const VIEWS: readonly ViewName[] = ['AP', 'LATERAL'];
export const VIEW_LABELS: Record<ViewName, string> = { AP: 'AP', LATERAL: 'Lateral' };

export interface LesionBox {
  /** The lesion Observation's id: boxes are drawn keyed by it. */
  id: string;
  /** Image pixels of the SOP instance, (x, y) the top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  foldsAgreeing: number;
  foldCount: number;
}

export interface ViewResult {
  view: ViewName;
  sopInstanceUid: string;
  score: number;
  positive: boolean;
  boxes: LesionBox[];
}

export interface StudyResult {
  /** "DiagnosticReport/<id>" */
  report: string;
  conclusion: string;
  positive: boolean;
  score: number;
  operatingThreshold: number;
  model: string;
  issued?: string;
  views: Partial<Record<ViewName, ViewResult>>;
}

export interface StudyItem {
  imagingStudyId: string;
  studyInstanceUid: string;
  started?: string;
  description?: string;
}

export interface PatientSummary {
  name: string;
  birthDate?: string;
  gender?: string;
}

/** Why a study has no result, from the analysis job. */
export interface AnalysisState {
  state: 'not-started' | 'queued' | 'running' | 'done' | 'failed';
  reason?: string;
}
