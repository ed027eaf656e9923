/**
 * One way for the hooks and the viewer to read analysis results back, whichever system holds
 * them: the FHIR server (./fhir/read-reports.ts, what the hooks query today) or the service's own
 * job store (jobs/stored-results.ts), so that a site whose EHR refuses third-party FHIR writes can
 * still have cards. Either gives the results as the FHIR resources the cards are read from
 * (fhir-profiles/read-report.ts), so the card wording does not depend on where they came from.
 */
import type { DiagnosticReport, Observation } from 'fhir/r4';

/** A study the results are asked for, as the EHR knows it. */
export interface ResultStudy {
  studyInstanceUid: string;
  /** "ImagingStudy/<id>" when the EHR has one. */
  imagingStudy?: string;
  started?: string;
}

export interface ResultReports {
  reports: DiagnosticReport[];
  /** The reports' Observations. */
  observations: Observation[];
}

export interface ResultsReader {
  /** The analysis reports of these studies of the patient ("Patient/<id>"); studies without one are left out. */
  reportsFor(patient: string, studies: readonly ResultStudy[]): Promise<ResultReports>;
}
