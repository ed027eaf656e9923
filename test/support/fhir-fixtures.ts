/** Registers a patient and the ImagingStudy of a DICOM study in a FHIR server, as an EHR would. */
import type { ImagingStudy, Patient } from 'fhir/r4';
import type { RunningFhirServer } from './fhir-server';

export async function registerStudy(fhir: RunningFhirServer, studyInstanceUid: string): Promise<{ patientId: string; imagingStudyId: string }> {
  const patient = await fhir.create<Patient>({ resourceType: 'Patient', gender: 'female', birthDate: '2008-03-01' });
  const study = await fhir.create<ImagingStudy>({
    resourceType: 'ImagingStudy',
    status: 'available',
    subject: { reference: `Patient/${patient.id}` },
    started: '2026-11-25T09:00:00Z',
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${studyInstanceUid}` }],
    modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'DX' }],
  });
  return { patientId: patient.id, imagingStudyId: study.id };
}
