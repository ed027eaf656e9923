/**
 * Reads the knee radiograph order codes once at start-up (our ValueSet, extended or replaced by a
 * site's own: `orders.kneeRadiographValueSet`) and finds the knee radiograph order an imaging study
 * was made for on the FHIR server. Which order is a knee radiograph: fhir-profiles/knee-radiograph-orders.ts.
 */
import { readFileSync } from 'node:fs';
import type { ServiceRequest, ValueSet } from 'fhir/r4';
import { isKneeRadiograph, valueSetCodes, type KneeRadiographCodes } from '../../../fhir-profiles/knee-radiograph-orders';
import { KNEE_RADIOGRAPH_ORDERS_VALUE_SET, type OrdersConfig } from '../config';
import { KneeTumorError, messageOf } from '../errors';
import type { FhirClient } from './client';
import { validationProblems } from './validate';
import { findImagingStudy } from './imaging-study';

const SERVICE_REQUEST_REFERENCE = /(?:^|\/)ServiceRequest\/([^/]+)(?:\/_history\/[^/]+)?$/;

function readValueSet(file: string): ValueSet {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new KneeTumorError('config-invalid', `cannot read the knee radiograph order ValueSet ${file}: ${messageOf(cause)}`, { cause });
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
