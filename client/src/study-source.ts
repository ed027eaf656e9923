/**
 * Everything the viewer loads, over the SMART session: FHIR reads with fhirclient (Patient,
 * ImagingStudy, DiagnosticReport, Observation) and our /app-api (rendered images through our
 * server, the analysis state, feedback), each with the app's access token. A FHIR read answered
 * 401 means the session is over (SessionExpiredError); an /app-api refusal is classified by its
 * error code (api-errors.ts). Whatever the FHIR server returns is checked against the launch
 * patient before anything is shown, with the rule the service and the cards use (subjectVerdict):
 * a server that ignores `patient=` returns other patients' studies, which are left out, and a report
 * or result of another patient is refused (NotThisPatientError).
 */
import type { DiagnosticReport, ImagingStudy, Observation, Patient, Reference } from 'fhir/r4';
import type Client from 'fhirclient/lib/Client';
import { subjectVerdict } from '../../fhir-profiles/patient-subject';
import { ANALYSIS_IDENTIFIER_SYSTEM, toPatientSummary, toStudyItem, toStudyResult } from './fhir-mapping';
import { apiError, NotThisPatientError, SessionExpiredError } from './api-errors';
import type { AnalysisState, PatientSummary, StudyItem, StudyResult } from './model';

export type FeedbackOutcome = { outcome: 'accepted' } | { outcome: 'overridden'; reason: string };

export interface StudySource {
  patient(): Promise<PatientSummary>;
  /** The patient's studies, newest first. */
  studies(): Promise<StudyItem[]>;
  /** The AI report of a study, or undefined when there is none. */
  result(study: StudyItem): Promise<StudyResult | undefined>;
  analysisState(study: StudyItem): Promise<AnalysisState>;
  /** An object URL of the rendered image; revoke it when done. */
  image(study: StudyItem, sopInstanceUid: string): Promise<string>;
  sendFeedback(report: string, feedback: FeedbackOutcome): Promise<void>;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (statusOf(error) === 401) throw new SessionExpiredError();
    throw error;
  }
}

export function smartStudySource(client: Client): StudySource {
  const patientId = client.getPatientId();
  if (!patientId) throw new Error('The EHR launched the viewer without a patient.');
  const fhirServer: string = client.state.serverUrl;
  const isThePatients = (resource: { subject?: Reference }) => subjectVerdict(resource.subject, { id: patientId }, fhirServer) === 'same-patient';
  const api = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const headers = { ...init.headers, Authorization: `Bearer ${client.getState('tokenResponse.access_token')}` };
    const response = await fetch(path, { ...init, headers });
    if (response.ok) return response;
    const body: unknown = await response.json().catch(() => undefined);
    throw apiError(path.split('?')[0] ?? path, response.status, body);
  };
  const fhir = <T>(url: string) => guard(() => client.request<T>(url, { flat: true, pageLimit: 0 }));

  return {
    async patient() {
      const patient = await fhir<Patient>(`Patient/${patientId}`);
      if (patient.id !== patientId) throw new NotThisPatientError('patient record');
      return toPatientSummary(patient);
    },
    async studies() {
      const found = await fhir<ImagingStudy[]>(`ImagingStudy?patient=Patient/${patientId}&_sort=-started&_count=50`);
      return found.filter(isThePatients).map(toStudyItem).filter((s): s is StudyItem => s !== undefined);
    },
    async result(study) {
      const reports = await fhir<DiagnosticReport[]>(
        `DiagnosticReport?patient=Patient/${patientId}&identifier=${encodeURIComponent(ANALYSIS_IDENTIFIER_SYSTEM)}|&_sort=-issued`,
      );
      const report = reports.filter(isThePatients).find((r) => r.imagingStudy?.some((s) => s.reference === `ImagingStudy/${study.imagingStudyId}`));
      if (!report) return undefined;
      const references = (report.result ?? []).map((r) => r.reference).filter((r): r is string => typeof r === 'string');
      const observations = await Promise.all(references.map((r) => fhir<Observation>(r)));
      if (!observations.every(isThePatients)) throw new NotThisPatientError('AI result');
      return toStudyResult(report, observations);
    },
    async analysisState(study) {
      const response = await api(`/app-api/studies/${study.studyInstanceUid}/analysis`);
      return (await response.json()) as AnalysisState;
    },
    async image(study, sop) {
      const response = await api(`/app-api/studies/${study.studyInstanceUid}/instances/${sop}/rendered`);
      return URL.createObjectURL(await response.blob());
    },
    async sendFeedback(report, feedback) {
      await api('/app-api/feedback', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ diagnosticReport: report, outcome: feedback.outcome, overrideReason: feedback.outcome === 'overridden' ? feedback.reason : undefined }),
      });
    },
  };
}
