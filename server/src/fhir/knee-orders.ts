/**
 * Recognises a knee radiograph order (ServiceRequest): among a hook's draft orders (the CDS
 * services), and as the order an imaging study was made for (the service, before analysis). Which
 * codes are knee radiographs is data: our ValueSet (fhir-profiles/ValueSet-knee-radiograph-orders.json:
 * LOINC, CPT, SNOMED CT), extended or replaced by a site's own (`orders.kneeRadiographValueSet`),
 * read once at start-up. An order no code of which is listed still counts when its words name a
 * knee radiograph ("XR knee 2 views").
 */
import { readFileSync } from 'node:fs';
import type { Bundle, CodeableConcept, FhirResource, ServiceRequest, ValueSet, ValueSetComposeInclude } from 'fhir/r4';
import { KNEE_RADIOGRAPH_ORDERS_VALUE_SET, type OrdersConfig } from '../config';
import { KneeTumorError } from '../errors';
import type { FhirClient } from './client';
import { validationProblems } from './validate';
import { findImagingStudy } from './write-report';

/** The order codes that are knee radiographs, each as "system|code". */
export type KneeRadiographCodes = ReadonlySet<string>;

const SERVICE_REQUEST_REFERENCE = /(?:^|\/)ServiceRequest\/([^/]+)(?:\/_history\/[^/]+)?$/;
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

function readValueSet(file: string): ValueSet {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new KneeTumorError('config-invalid', `cannot read the knee radiograph order ValueSet ${file}: ${(cause as Error).message}`, { cause });
  }
  const problems = (json as { resourceType?: unknown })?.resourceType === 'ValueSet' ? validationProblems(json as ValueSet) : ['not a FHIR ValueSet'];
  if (problems.length > 0) throw new KneeTumorError('config-invalid', `the knee radiograph order ValueSet ${file} is invalid: ${problems.join('; ')}`);
  return json as ValueSet;
}

/** Our ValueSet's codes, with the site's ValueSet added (or instead, when it replaces ours). */
export function loadKneeRadiographCodes(orders: OrdersConfig): KneeRadiographCodes {
  const site = orders.kneeRadiographValueSet;
  const files = site ? (orders.kneeRadiographValueSetUse === 'replace' ? [site] : [KNEE_RADIOGRAPH_ORDERS_VALUE_SET, site]) : [KNEE_RADIOGRAPH_ORDERS_VALUE_SET];
  return new Set(files.flatMap((file) => [...valueSetCodes(readValueSet(file), file)]));
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

/**
 * The knee radiograph order a study was made for, e.g. "ServiceRequest/12 (XR Knee 2 Views)": the
 * ServiceRequests its ImagingStudy on the FHIR server is basedOn. Undefined while the FHIR server
 * has no ImagingStudy for the study, or when none of its orders is a knee radiograph.
 */
export async function kneeOrderOfStudy(codes: KneeRadiographCodes, fhir: FhirClient, studyInstanceUid: string): Promise<string | undefined> {
  const study = await findImagingStudy(fhir, studyInstanceUid);
  const ids = (study?.basedOn ?? []).flatMap((r) => SERVICE_REQUEST_REFERENCE.exec(r.reference ?? '')?.slice(1, 2) ?? []);
  if (ids.length === 0) return undefined;
  const orders = await fhir.search<ServiceRequest>('ServiceRequest', `_id=${ids.map(encodeURIComponent).join(',')}`);
  const order = orders.find((o) => isKneeRadiograph(codes, o.code));
  return order ? `ServiceRequest/${order.id} (${order.code?.text ?? order.code?.coding?.find((c) => c.display)?.display ?? 'knee radiograph'})` : undefined;
}
