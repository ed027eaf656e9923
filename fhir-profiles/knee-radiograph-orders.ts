/**
 * Which orders are knee radiographs, given the codes of the knee radiograph order ValueSet
 * (ValueSet-knee-radiograph-orders.json beside this file, plus a site's own): pure functions that the
 * CDS services (draft orders) and the service (the order a study was made for) share.
 */
import type { Bundle, CodeableConcept, FhirResource, ServiceRequest, ValueSet, ValueSetComposeInclude } from 'fhir/r4';
import { KneeTumorError } from '../server/src/errors';

/** The order codes that are knee radiographs, each as "system|code". */
export type KneeRadiographCodes = ReadonlySet<string>;

const key = (system: string, code: string) => `${system}|${code}`;

/**
 * The codes a ValueSet enumerates (compose.include concepts, less compose.exclude ones). A filter
 * or an included ValueSet needs a terminology server to expand, so it is refused, not ignored.
 */
export function valueSetCodes(valueSet: ValueSet, source: string): Set<string> {
  const parts = [...(valueSet.compose?.include ?? []), ...(valueSet.compose?.exclude ?? [])];
  const unexpandable = parts.find((p) => p.filter?.length || p.valueSet?.length || !p.system || !p.concept?.length);
  if (unexpandable) {
    throw new KneeTumorError('config-invalid', `the ValueSet ${source} must list its codes (compose.include with a system and concepts); filters and included ValueSets are not expanded`);
  }
  const listed = (parts: ValueSetComposeInclude[]) =>
    parts.flatMap((p) => (p.concept ?? []).map((c) => key(p.system ?? '', c.code)));
  const excluded = new Set(listed(valueSet.compose?.exclude ?? []));
  return new Set(listed(valueSet.compose?.include ?? []).filter((c) => !excluded.has(c)));
}

export function isKneeRadiograph(codes: KneeRadiographCodes, code: CodeableConcept | undefined): boolean {
  if (!code) return false;
  if (code.coding?.some((c) => c.system !== undefined && c.code !== undefined && codes.has(key(c.system, c.code)))) return true;
  const words = [code.text, ...(code.coding ?? []).map((c) => c.display)].filter(Boolean).join(' ');
  return /\bknee\b/i.test(words) && /\b(xr|x-ray|radiograph|radiography)\b/i.test(words);
}

/** True when one of the orders (only the selected ones, when selections are given) is a knee radiograph. */
export function hasKneeRadiographOrder(codes: KneeRadiographCodes, draftOrders: Bundle<FhirResource> | undefined, selections?: string[]): boolean {
  const orders = (draftOrders?.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is ServiceRequest => r?.resourceType === 'ServiceRequest')
    .filter((r) => !selections || selections.includes(`ServiceRequest/${r.id}`));
  return orders.some((o) => isKneeRadiograph(codes, o.code));
}
