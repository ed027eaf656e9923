/**
 * The demo's sample patients: phantom knee studies (AP + lateral DICOM, models/phantoms) stored in
 * the PACS over STOW-RS, and the Patient and ImagingStudy resources an EHR would hold for them.
 * The first patient has a recent study with a tumor and an earlier one without; the second has
 * one study without. Fixed seed: every start shows the same patients.
 */
import type { ImagingStudy, Patient } from 'fhir/r4';
import { DEFAULT_OPTIONS, generatePatient, type GeneratedPatient } from '../../../models/phantoms/generate';
import type { DicomWebClient } from '../dicomweb/client';
import { SYSTEMS, studyIdentifierValue } from '../fhir/codes';
import type { FhirEngine } from '../fhir/memory-engine';

const SEED = 20261126;
// The phantoms' default size, the one the shipped ensemble was trained on.
const OPTIONS = { ...DEFAULT_OPTIONS, tumorFraction: 0.5 };

interface SamplePatient {
  patient: Patient;
  studies: Array<{ tumor: boolean; started: string }>;
}

const SAMPLES: SamplePatient[] = [
  {
    patient: { resourceType: 'Patient', name: [{ given: ['Mia'], family: 'Jensen' }], gender: 'female', birthDate: '2009-04-17' },
    studies: [
      { tumor: true, started: '2026-11-20T10:15:00Z' },
      { tumor: false, started: '2025-06-02T14:40:00Z' },
    ],
  },
  {
    patient: { resourceType: 'Patient', name: [{ given: ['Noah'], family: 'Berg' }], gender: 'male', birthDate: '1994-09-03' },
    studies: [{ tumor: false, started: '2026-11-18T08:05:00Z' }],
  },
];

/** Phantom patients in index order, taken as the samples ask for a tumor or not. */
function* phantoms(): Generator<GeneratedPatient> {
  for (let index = 0; ; index++) yield generatePatient(SEED, index, OPTIONS);
}

/** Not a for-of: leaving one early would close the generator for the next sample. */
function take(source: Generator<GeneratedPatient>, tumor: boolean): GeneratedPatient {
  for (let next = source.next(); !next.done; next = source.next()) if (next.value.reference.tumor === tumor) return next.value;
  throw new Error('the phantom generator ended');
}

/** Fills the PACS and the FHIR server; returns the StudyInstanceUIDs to analyse. */
export async function loadSamples(fhir: FhirEngine, pacs: DicomWebClient): Promise<string[]> {
  const withTumor = phantoms();
  const without = phantoms();
  const uids: string[] = [];
  for (const sample of SAMPLES) {
    const patient = await fhir.create(sample.patient);
    for (const study of sample.studies) {
      const phantom = take(study.tumor ? withTumor : without, study.tumor);
      await pacs.storeInstances([phantom.ap, phantom.lateral]);
      const uid = phantom.reference.studyInstanceUid;
      if (!uid) throw new Error('a phantom study has no StudyInstanceUID');
      await fhir.create<ImagingStudy>({
        resourceType: 'ImagingStudy',
        status: 'available',
        subject: { reference: `Patient/${patient.id}` },
        started: study.started,
        description: `XR knee ${phantom.reference.laterality === 'L' ? 'left' : 'right'}, AP and lateral`,
        identifier: [{ system: SYSTEMS.dicomUid, value: studyIdentifierValue(uid) }],
        modality: [{ system: SYSTEMS.dicom, code: 'DX' }],
        numberOfInstances: 2,
      });
      uids.push(uid);
    }
  }
  return uids;
}
