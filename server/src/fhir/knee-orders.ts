/**
 * Recognises a knee radiograph order (ServiceRequest), by LOINC code or by its words: among a
 * hook's draft orders (the CDS services), and as the order an imaging study was made for (the
 * service, before analysis). FHIR-level knowledge both sides import from here.
 */
import type { Bundle, CodeableConcept, FhirResource, ServiceRequest } from 'fhir/r4';
import type { FhirClient } from './client';
import { REPORT_CODES } from './codes';
import { findImagingStudy } from './write-report';

const KNEE_XR_CODES = new Set<string>(Object.values(REPORT_CODES).map((c) => c.code));
const SERVICE_REQUEST_REFERENCE = /(?:^|\/)ServiceRequest\/([^/]+)(?:\/_history\/[^/]+)?$/;

function isKneeImaging(code: CodeableConcept | undefined): boolean {
  if (!code) return false;
  if (code.coding?.some((c) => c.system === 'http://loinc.org' && c.code !== undefined && KNEE_XR_CODES.has(c.code))) return true;
  const words = [code.text, ...(code.coding ?? []).map((c) => c.display)].filter(Boolean).join(' ');
  return /\bknee\b/i.test(words) && /\b(xr|x-ray|radiograph|radiography)\b/i.test(words);
}

/** True when one of the orders (only the selected ones, when selections are given) is a knee radiograph. */
export function hasKneeRadiographOrder(draftOrders: Bundle<FhirResource> | undefined, selections?: string[]): boolean {
  const orders = (draftOrders?.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is ServiceRequest => r?.resourceType === 'ServiceRequest')
    .filter((r) => !selections || selections.includes(`ServiceRequest/${r.id}`));
  return orders.some((o) => isKneeImaging(o.code));
}

/**
 * The knee radiograph order a study was made for, e.g. "ServiceRequest/12 (XR Knee 2 Views)": the
 * ServiceRequests its ImagingStudy on the FHIR server is basedOn. Undefined while the FHIR server
 * has no ImagingStudy for the study, or when none of its orders is a knee radiograph.
 */
export async function kneeOrderOfStudy(fhir: FhirClient, studyInstanceUid: string): Promise<string | undefined> {
  const study = await findImagingStudy(fhir, studyInstanceUid);
  const ids = (study?.basedOn ?? []).flatMap((r) => SERVICE_REQUEST_REFERENCE.exec(r.reference ?? '')?.slice(1, 2) ?? []);
  if (ids.length === 0) return undefined;
  const orders = await fhir.search<ServiceRequest>('ServiceRequest', `_id=${ids.map(encodeURIComponent).join(',')}`);
  const order = orders.find((o) => isKneeImaging(o.code));
  return order ? `ServiceRequest/${order.id} (${order.code?.text ?? order.code?.coding?.find((c) => c.display)?.display ?? 'knee radiograph'})` : undefined;
}
