/**
 * The patient's recent ImagingStudies and our DiagnosticReports with their Observations: from
 * prefetch when the CDS client sent it, else from its FHIR server with the fhirAuthorization it
 * gave, and only from a server configured for that client. Neither: 412, as CDS Hooks asks. Then
 * only the hook patient's own resources are kept; the others are logged by id and reason.
 */
import type { Bundle, DiagnosticReport, FhirResource, ImagingStudy, Observation, Patient } from 'fhir/r4';
import { KneeTumorError, isKneeTumorError } from '../server/src/errors';
import { SYSTEMS } from '../fhir-profiles/codes';
import type { PatientIdentity } from '../fhir-profiles/patient-subject';
import { describeIssues } from '../server/src/validation-issues';
import { FhirResourceSchema } from './fhir-shapes';
import { isListedFhirServer } from './fhir-servers';
import { dropSummary, needsPatientIdentifiers, scopeToPatient } from './patient-scope';
import type { EhrFhirReader, HookContext, HookRequest, PatientData } from './types';

/** The reports' Observations (_include) carry the view and the confidence the cards speak of. */
export const PREFETCH = {
  kneeStudies: 'ImagingStudy?patient=Patient/{{context.patientId}}&_sort=-started&_count=10',
  analysisReports: `DiagnosticReport?patient=Patient/{{context.patientId}}&identifier=${encodeURIComponent(SYSTEMS.analysisId)}|&_sort=-issued&_count=10&_include=DiagnosticReport:result`,
} as const;

type PrefetchKey = keyof typeof PREFETCH;

/** Replaces {{context.x}} tokens with the hook's context values. */
export function resolveTemplate(template: string, context: Record<string, unknown>): string {
  return template.replace(/\{\{context\.(\w+)\}\}/g, (_, name: string) => {
    const value = context[name];
    if (typeof value !== 'string') throw new KneeTumorError('prefetch-unavailable', `the hook context has no ${name}`);
    return encodeURIComponent(value);
  });
}

/** The hook's FHIR server, when we may query it; else why not. Nothing is requested here. */
type FhirSource = { client: EhrFhirReader; refusal?: undefined } | { client?: undefined; refusal: string };

function fhirSource(request: HookRequest, context: HookContext): FhirSource {
  if (!request.fhirServer || !request.fhirAuthorization) return { refusal: 'no fhirServer with fhirAuthorization was given' };
  if (!isListedFhirServer(request.fhirServer, context.caller.fhirServers)) {
    return { refusal: `the fhirServer ${request.fhirServer} is not listed in cdsClients[].fhirServers for ${context.caller.issuer}, so it is never called` };
  }
  return { client: context.ehrFhir(request.fhirServer, request.fhirAuthorization.access_token) };
}

function resourcesOf<T extends FhirResource>(value: FhirResource | null, type: T['resourceType']): T[] {
  if (value === null) return [];
  if (value.resourceType === type) return [value as T];
  if (value.resourceType !== 'Bundle') throw new KneeTumorError('bad-request', `prefetch holds a ${value.resourceType}, expected a Bundle of ${type}`);
  return ((value as Bundle<FhirResource>).entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

async function query(source: FhirSource, key: PrefetchKey, request: HookRequest, why: string): Promise<FhirResource> {
  if (!source.client) throw new KneeTumorError('prefetch-unavailable', `${why} and ${source.refusal}`);
  let answer: unknown;
  try {
    answer = await source.client.searchUrl(resolveTemplate(PREFETCH[key], request.context));
  } catch (error) {
    if (isKneeTumorError(error) && error.code === 'prefetch-unavailable') throw error;
    throw new KneeTumorError('prefetch-unavailable', `${why} and it could not be fetched from the FHIR server`, { cause: error });
  }
  const checked = FhirResourceSchema.safeParse(answer);
  if (!checked.success) throw new KneeTumorError('prefetch-unavailable', `${why} and the FHIR server's answer is not usable: ${describeIssues(checked.error)}`);
  return checked.data as FhirResource;
}

async function fetchKey(request: HookRequest, key: PrefetchKey, source: FhirSource): Promise<FhirResource | null> {
  const given = request.prefetch?.[key];
  if (given === undefined) return query(source, key, request, `prefetch ${key} is missing`);
  // CDS Hooks 2.0: an OperationOutcome in place of a prefetch result says the client's own query failed.
  if (given?.resourceType === 'OperationOutcome') return query(source, key, request, `prefetch ${key} failed at the CDS client (OperationOutcome)`);
  return given;
}

/**
 * The patient's identifiers, read only when some subject is given by identifier alone and the
 * FHIR server may be asked; without them such resources are dropped. Searched by _id and then
 * matched by id, so that a server ignoring the parameter cannot substitute another Patient.
 */
async function patientIdentity(request: HookRequest, data: PatientData, source: FhirSource): Promise<PatientIdentity> {
  const patient: PatientIdentity = { id: request.context.patientId };
  if (!source.client || !needsPatientIdentifiers(data, patient, request.fhirServer)) return patient;
  try {
    const identifiers = (await source.client.search<Patient>('Patient', `_id=${encodeURIComponent(patient.id)}`)).find((p) => p.id === patient.id)?.identifier;
    return identifiers ? { ...patient, identifiers } : patient;
  } catch {
    // Unread, the identifiers match nothing: those resources are dropped (and logged), never shown.
    return patient;
  }
}

export async function patientData(request: HookRequest, context: HookContext): Promise<PatientData> {
  const source = fhirSource(request, context);
  const [studies, reports] = await Promise.all([fetchKey(request, 'kneeStudies', source), fetchKey(request, 'analysisReports', source)]);
  const found: PatientData = {
    studies: resourcesOf<ImagingStudy>(studies, 'ImagingStudy'),
    reports: resourcesOf<DiagnosticReport>(reports, 'DiagnosticReport').filter((r) => r.identifier?.some((i) => i.system === SYSTEMS.analysisId)),
    // An EHR that leaves out the included Observations still gets cards, worded from the reports alone.
    observations: resourcesOf<Observation>(reports, 'Observation'),
  };
  const { data, dropped } = scopeToPatient(found, await patientIdentity(request, found, source), request.fhirServer);
  if (dropped.length > 0) {
    context.log('cds-resources-dropped', {
      hookInstance: request.hookInstance,
      issuer: context.caller.issuer,
      count: dropped.length,
      reasons: dropSummary(dropped),
      resources: dropped.map((d) => d.resource).join(','),
    });
  }
  return data;
}
