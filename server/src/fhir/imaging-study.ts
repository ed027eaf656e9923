/** Finds a study's ImagingStudy on the FHIR server by its StudyInstanceUID identifier. */
import type { ImagingStudy } from 'fhir/r4';
import { SYSTEMS, studyIdentifierValue } from '../../../fhir-profiles/codes';
import type { FhirClient } from './client';

/** A token search parameter value: system|value, each URL-encoded. */
export function identifierToken(system: string, value: string): string {
  return `${encodeURIComponent(system)}|${encodeURIComponent(value)}`;
}

export async function findImagingStudy(fhir: FhirClient, studyInstanceUid: string): Promise<ImagingStudy | undefined> {
  const found = await fhir.search<ImagingStudy>('ImagingStudy', `identifier=${identifierToken(SYSTEMS.dicomUid, studyIdentifierValue(studyInstanceUid))}`);
  return found[0];
}
