/**
 * Keeps only the hook patient's own resources (pure). A FHIR server or proxy that ignores a
 * search parameter, or a prefetch filled carelessly, can hand us another patient's studies and
 * reports; a card made from them would put that patient's finding in this patient's chart. So
 * every ImagingStudy and DiagnosticReport must name the patient as its subject, and an Observation
 * is read only when it belongs to a kept report and names the same patient.
 */
import type { FhirResource } from 'fhir/r4';
import { referenceKey, subjectVerdict, type PatientIdentity, type SubjectMismatch } from '../fhir-profiles/patient-subject';
import type { PatientData } from './types';

export type DropReason = SubjectMismatch | 'not-in-a-kept-report';

export interface DroppedResource {
  /** "Type/id": safe to log, unlike the subject it named. */
  resource: string;
  reason: DropReason;
}

export interface ScopedData {
  data: PatientData;
  dropped: DroppedResource[];
}

const key = (resource: FhirResource) => `${resource.resourceType}/${resource.id}`;

/** True when some resource names its subject by identifier only, so the patient's identifiers decide. */
export function needsPatientIdentifiers(data: PatientData, patient: PatientIdentity, fhirServer?: string): boolean {
  return [...data.studies, ...data.reports, ...data.observations].some((r) => subjectVerdict(r.subject, patient, fhirServer) === 'subject-identifier-unverified');
}

/** `fhirServer`: where the resources came from, when the hook named it. */
export function scopeToPatient(data: PatientData, patient: PatientIdentity, fhirServer?: string): ScopedData {
  const dropped: DroppedResource[] = [];
  const own = <T extends FhirResource & { subject?: Parameters<typeof subjectVerdict>[0] }>(resources: T[]): T[] =>
    resources.filter((resource) => {
      const verdict = subjectVerdict(resource.subject, patient, fhirServer);
      if (verdict !== 'same-patient') dropped.push({ resource: key(resource), reason: verdict });
      return verdict === 'same-patient';
    });
  const studies = own(data.studies);
  const reports = own(data.reports);
  const results = new Set(reports.flatMap((r) => (r.result ?? []).map((ref) => referenceKey(ref.reference))));
  const inKeptReport = data.observations.filter((o) => {
    if (!results.has(key(o))) dropped.push({ resource: key(o), reason: 'not-in-a-kept-report' });
    return results.has(key(o));
  });
  return { data: { studies, reports, observations: own(inKeptReport) }, dropped };
}

/** Counts by reason, e.g. "other-patient:2,no-subject:1", for one log line. */
export function dropSummary(dropped: DroppedResource[]): string {
  const counts = new Map<DropReason, number>();
  for (const { reason } of dropped) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${reason}:${count}`).join(',');
}
