/**
 * Reads our FHIR output back (pure): the DiagnosticReport and its patient-, view- and lesion-level
 * Observations become the StudyResult the viewer draws, with the server's own reader
 * (server/src/fhir/read-report.ts), so that the viewer and the cards agree.
 */
import type { ImagingStudy, Patient } from 'fhir/r4';
import { SYSTEMS } from '../../fhir-profiles/codes';
import { readReport } from '../../fhir-profiles/read-report';
import type { PatientSummary, StudyItem } from './model';

/** The report and its Observations as the viewer shows them: the same reading as the CDS cards'. */
export const toStudyResult = readReport;

export function studyInstanceUidOf(study: ImagingStudy): string | undefined {
  const value = study.identifier?.find((i) => i.system === SYSTEMS.dicomUid)?.value;
  return value?.replace(/^urn:oid:/, '');
}

export function toStudyItem(study: ImagingStudy): StudyItem | undefined {
  const uid = studyInstanceUidOf(study);
  if (!uid || !study.id) return undefined;
  return { imagingStudyId: study.id, studyInstanceUid: uid, started: study.started, description: study.description };
}

export function toPatientSummary(patient: Patient): PatientSummary {
  const name = patient.name?.[0];
  const text = name?.text ?? [name?.given?.join(' '), name?.family].filter(Boolean).join(' ');
  return { name: text || 'Unnamed patient', birthDate: patient.birthDate, gender: patient.gender };
}

/** Our analysis reports carry this identifier system; other reports of the patient are not ours. */
export const ANALYSIS_IDENTIFIER_SYSTEM = SYSTEMS.analysisId;
