/** Recognises a knee radiograph among draft orders (ServiceRequest), by LOINC code or by its words. */
import type { Bundle, CodeableConcept, FhirResource, ServiceRequest } from 'fhir/r4';
import { REPORT_CODES } from '../server/src/fhir/codes';

const KNEE_XR_CODES = new Set<string>(Object.values(REPORT_CODES).map((c) => c.code));

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
