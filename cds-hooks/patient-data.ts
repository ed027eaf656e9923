/**
 * The patient's recent ImagingStudies and our DiagnosticReports with their Observations: from
 * prefetch when the CDS client sent it, else from its FHIR server with the fhirAuthorization it
 * gave. Neither: 412, as CDS Hooks asks.
 */
import type { Bundle, DiagnosticReport, FhirResource, ImagingStudy, Observation } from 'fhir/r4';
import { KneeTumorError, isKneeTumorError } from '../server/src/errors';
import { SYSTEMS } from '../server/src/fhir/codes';
import { createFhirClient } from '../server/src/fhir/client';
import type { HookRequest, PatientData } from './types';

/** The reports' Observations (_include) carry the view and the confidence the cards speak of. */
export const PREFETCH = {
  kneeStudies: 'ImagingStudy?patient=Patient/{{context.patientId}}&_sort=-started&_count=10',
  analysisReports: `DiagnosticReport?patient=Patient/{{context.patientId}}&identifier=${encodeURIComponent(SYSTEMS.analysisId)}|&_sort=-issued&_count=10&_include=DiagnosticReport:result`,
} as const;

/** Replaces {{context.x}} tokens with the hook's context values. */
export function resolveTemplate(template: string, context: Record<string, unknown>): string {
  return template.replace(/\{\{context\.(\w+)\}\}/g, (_, name: string) => {
    const value = context[name];
    if (typeof value !== 'string') throw new KneeTumorError('prefetch-unavailable', `the hook context has no ${name}`);
    return encodeURIComponent(value);
  });
}

function resourcesOf<T extends FhirResource>(value: FhirResource | null, type: T['resourceType']): T[] {
  if (value === null) return [];
  if (value.resourceType === type) return [value as T];
  if (value.resourceType !== 'Bundle') throw new KneeTumorError('bad-request', `prefetch holds a ${value.resourceType}, expected a Bundle of ${type}`);
  return ((value as Bundle<FhirResource>).entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

async function fetchKey(request: HookRequest, key: keyof typeof PREFETCH, timeoutMs: number): Promise<FhirResource | null> {
  if (request.prefetch && key in request.prefetch) return request.prefetch[key] ?? null;
  if (!request.fhirServer || !request.fhirAuthorization) {
    throw new KneeTumorError('prefetch-unavailable', `prefetch ${key} is missing and no fhirServer with fhirAuthorization was given`);
  }
  const fhir = createFhirClient({
    baseUrl: request.fhirServer,
    auth: { type: 'bearer', token: request.fhirAuthorization.access_token },
    timeoutMs,
  });
  try {
    return await fhir.searchUrl(resolveTemplate(PREFETCH[key], request.context));
  } catch (error) {
    if (isKneeTumorError(error) && error.code === 'prefetch-unavailable') throw error;
    throw new KneeTumorError('prefetch-unavailable', `prefetch ${key} could not be fetched from the FHIR server`, { cause: error });
  }
}

export async function patientData(request: HookRequest, timeoutMs: number): Promise<PatientData> {
  const [studies, reports] = await Promise.all([fetchKey(request, 'kneeStudies', timeoutMs), fetchKey(request, 'analysisReports', timeoutMs)]);
  return {
    studies: resourcesOf<ImagingStudy>(studies, 'ImagingStudy'),
    reports: resourcesOf<DiagnosticReport>(reports, 'DiagnosticReport').filter((r) => r.identifier?.some((i) => i.system === SYSTEMS.analysisId)),
    // An EHR that leaves out the included Observations still gets cards, worded from the reports alone.
    observations: resourcesOf<Observation>(reports, 'Observation'),
  };
}
