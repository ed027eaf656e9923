/** Registers a patient and the ImagingStudy of a DICOM study in a FHIR server, as an EHR would. */
import type { ImagingStudy, Patient } from 'fhir/r4';
import type { RunningFhirServer } from './fhir-server';

/** An ISO date-time `days` before now, at 09:00 UTC: study dates that stay recent whenever the tests run. */
export function daysAgo(days: number): string {
  const date = new Date(Date.now() - days * 24 * 60 * 60 * 1000);
  return `${date.toISOString().slice(0, 10)}T09:00:00Z`;
}

/** When registered studies were taken: recent, so that a positive one is the patient's current study. */
export const RECENT_STUDY_STARTED = daysAgo(5);
export const RECENT_STUDY_DATE = RECENT_STUDY_STARTED.slice(0, 10);

export async function registerStudy(
  fhir: Pick<RunningFhirServer, 'create'>,
  studyInstanceUid: string,
  started: string = RECENT_STUDY_STARTED,
): Promise<{ patientId: string; imagingStudyId: string }> {
  const patient = await fhir.create<Patient>({ resourceType: 'Patient', gender: 'female', birthDate: '2008-03-01' });
  const study = await fhir.create<ImagingStudy>({
    resourceType: 'ImagingStudy',
    status: 'available',
    subject: { reference: `Patient/${patient.id}` },
    started,
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${studyInstanceUid}` }],
    modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'DX' }],
  });
  return { patientId: patient.id, imagingStudyId: study.id };
}
