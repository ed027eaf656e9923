/** What the viewer shows, read from the FHIR report and its Observations. */

export type ViewName = 'AP' | 'LATERAL';
export const VIEWS: readonly ViewName[] = ['AP', 'LATERAL'];
export const VIEW_LABELS: Record<ViewName, string> = { AP: 'AP', LATERAL: 'Lateral' };

/** A lesion box, a view's finding and the whole report, as the server's reader gives them. */
export type { ReportLesion as LesionBox, ReportView as ViewResult, ReportReading as StudyResult } from '../../fhir-profiles/read-report';

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
