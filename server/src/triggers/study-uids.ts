/**
 * Reads which studies a completion signal is about. Orthanc and the HTTP trigger name the
 * StudyInstanceUID; a FHIR Subscription notification carries an ImagingStudy that became
 * available (its DICOM UID is an identifier) or a ServiceRequest that was completed (its studies
 * are the ImagingStudies basedOn it, looked up on the FHIR server), bare or in a Bundle. A
 * notification is checked field by field where it is read, so a malformed one is refused with the
 * path of the bad field.
 */
import type { Bundle, FhirResource, ImagingStudy } from 'fhir/r4';
import { z } from 'zod';
import { KneeTumorError } from '../errors';
import { describeIssues } from '../validation-issues';
import type { FhirClient } from '../fhir/client';
import { SYSTEMS } from '../../../fhir-profiles/codes';

const DICOM_UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
export const StudyUidSchema = z.string().max(64).regex(DICOM_UID, 'a DICOM UID');

export const StudyTriggerSchema = z.object({ studyInstanceUid: StudyUidSchema });

export function studyUidFromBody(body: unknown): string {
  const parsed = StudyTriggerSchema.safeParse(body);
  if (!parsed.success) throw new KneeTumorError('bad-request', 'the body must be {"studyInstanceUid": "<DICOM UID>"}');
  return parsed.data.studyInstanceUid;
}

const Identifier = z.looseObject({ system: z.string().optional(), value: z.string().optional() });
const NOTIFIED_SHAPES: Partial<Record<string, z.ZodType>> = {
  ImagingStudy: z.looseObject({ id: z.string().optional(), status: z.string().optional(), identifier: z.array(Identifier).optional() }),
  ServiceRequest: z.looseObject({ id: z.string().optional(), status: z.string().optional() }),
  Bundle: z.looseObject({ type: z.string().optional(), entry: z.array(z.looseObject({ resource: z.lazy(() => NotifiedResource).optional() })).optional() }),
};
/** A resource: a `resourceType`, and for the types read here, the fields read; others pass as they are. */
const NotifiedResource: z.ZodType<{ resourceType: string }> = z.looseObject({ resourceType: z.string().min(1) }).superRefine((resource, ctx) => {
  for (const issue of NOTIFIED_SHAPES[resource.resourceType]?.safeParse(resource).error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

/** The StudyInstanceUID an ImagingStudy names as its DICOM identifier, when it is a valid UID. */
export function studyUidOf(study: ImagingStudy): string | undefined {
  const value = study.identifier?.find((i) => i.system === SYSTEMS.dicomUid)?.value?.replace(/^urn:oid:/, '');
  return value && StudyUidSchema.safeParse(value).success ? value : undefined;
}

async function uidsOf(resource: FhirResource, fhir: FhirClient): Promise<string[]> {
  if (resource.resourceType === 'ImagingStudy') {
    const uid = resource.status === 'available' ? studyUidOf(resource) : undefined;
    return uid ? [uid] : [];
  }
  if (resource.resourceType === 'ServiceRequest' && resource.status === 'completed' && resource.id) {
    const studies = await fhir.search<ImagingStudy>('ImagingStudy', `basedon=ServiceRequest/${encodeURIComponent(resource.id)}`);
    return studies.filter((s) => s.status === 'available').map(studyUidOf).filter((u): u is string => u !== undefined);
  }
  return [];
}

/** The StudyInstanceUIDs a Subscription notification announces; empty for a heartbeat. */
export async function studyUidsFromNotification(body: unknown, fhir: FhirClient): Promise<string[]> {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) return [];
  const parsed = NotifiedResource.safeParse(body);
  if (!parsed.success) throw new KneeTumorError('bad-request', `the notification is not a FHIR resource of the expected shape: ${describeIssues(parsed.error, '(body)')}`);
  const resource = parsed.data as FhirResource;
  const resources = resource.resourceType === 'Bundle' ? ((resource as Bundle<FhirResource>).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])) : [resource];
  const uids = await Promise.all(resources.map((r) => uidsOf(r, fhir)));
  return [...new Set(uids.flat())];
}
