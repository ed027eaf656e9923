/**
 * The demo's sample patients. Each is defined once (SAMPLES); its FHIR Patient and the patient
 * attributes in its studies' DICOM are both derived from that one definition, so the EHR and the
 * PACS agree. Each study is a phantom knee (models/phantoms) picked to fit the patient: same sex,
 * the age they were on the study date (the phantom's anatomy follows its age), the knee named,
 * and a tumor or not. Fixed seed: every start shows the same patients and images, under the same
 * FHIR ids (derived from the MRN), so that a third-party launcher can be told them once. The demo's
 * clinician, the user of the chart and the `fhirUser` of its tokens, is a Practitioner beside them.
 */
import type { ImagingStudy, Patient, Practitioner } from 'fhir/r4';
import { DEFAULT_OPTIONS, generatePlannedPatient, type GeneratedPatient } from '../../../models/phantoms/generate';
import { planPatient, withIdentity } from '../../../models/phantoms/plan';
import type { DicomWebClient } from '../dicomweb/client';
import type { ReferencePatient } from '../domain/reference';
import { SYSTEMS, studyIdentifierValue } from '../../../fhir-profiles/codes';
import type { FhirEngine } from '../fhir/memory-engine';

const SEED = 20261126;
// The phantoms' default size, the one the shipped ensemble was trained on.
const OPTIONS = { ...DEFAULT_OPTIONS, tumorFraction: 0.5 };
/** How far to look for a phantom that fits a study; planning draws no pixels, so a search is cheap. */
const PLANS_SEARCHED = 50000;
/** The demo EHR's medical record numbers; DICOM PatientID carries the same value. */
export const MRN_SYSTEM = 'https://demo-ehr.example.org/identifier/mrn';

interface SampleStudy {
  /** ISO date-time (UTC). */
  started: string;
  knee: 'L' | 'R';
  tumor: boolean;
}

interface SamplePatient {
  given: string;
  family: string;
  mrn: string;
  gender: 'female' | 'male';
  /** ISO date. */
  birthDate: string;
  studies: SampleStudy[];
}

const SAMPLES: SamplePatient[] = [
  {
    given: 'Mia',
    family: 'Jensen',
    mrn: 'DEMO-100017',
    gender: 'female',
    birthDate: '2009-04-17',
    studies: [
      { started: '2026-11-20T10:15:00Z', knee: 'L', tumor: true },
      { started: '2025-06-02T14:40:00Z', knee: 'L', tumor: false },
    ],
  },
  {
    given: 'Noah',
    family: 'Berg',
    mrn: 'DEMO-100032',
    gender: 'male',
    birthDate: '1994-09-03',
    studies: [{ started: '2026-11-18T08:05:00Z', knee: 'R', tumor: false }],
  },
];

export interface DemoStudy {
  started: string;
  knee: 'L' | 'R';
  /** The DICOM views and the phantom's reference standard (its lesion boxes). */
  phantom: GeneratedPatient;
}

export interface DemoPatient {
  patient: Patient & { id: string };
  studies: DemoStudy[];
}

/** The chart's user: a launch asking for `openid fhirUser` is told this Practitioner. */
export const DEMO_CLINICIAN: Practitioner & { id: string } = {
  resourceType: 'Practitioner',
  id: 'demo-clinician',
  active: true,
  identifier: [{ system: 'https://demo-ehr.example.org/identifier/staff', value: 'DEMO-STAFF-001' }],
  name: [{ use: 'official', family: 'Okafor', given: ['Ada'], prefix: ['Dr.'] }],
};

function fhirPatient(sample: SamplePatient): Patient & { id: string } {
  return {
    resourceType: 'Patient',
    // A FHIR id may hold letters, digits, '-' and '.': the MRN lower-cased is one.
    id: sample.mrn.toLowerCase(),
    identifier: [{ system: MRN_SYSTEM, value: sample.mrn }],
    name: [{ use: 'official', family: sample.family, given: [sample.given] }],
    gender: sample.gender,
    birthDate: sample.birthDate,
  };
}

/** Whole years from an ISO birth date to an ISO date(-time). */
function ageOn(birthDate: string, date: string): number {
  const years = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return date.slice(5, 10) < birthDate.slice(5, 10) ? years - 1 : years;
}

/** The first phantom of the seed, not already taken, that fits the patient on the study's date. */
function phantomFor(sample: SamplePatient, study: SampleStudy, taken: Set<number>): GeneratedPatient {
  const sex = sample.gender === 'female' ? 'F' : 'M';
  const age = ageOn(sample.birthDate, study.started);
  for (let index = 0; index < PLANS_SEARCHED; index++) {
    if (taken.has(index)) continue;
    const plan = planPatient(SEED, index, OPTIONS);
    if ((plan.lesion !== undefined) !== study.tumor || plan.sex !== sex || plan.ageYears !== age || plan.laterality !== study.knee) continue;
    taken.add(index);
    const identity = {
      patientId: sample.mrn,
      patientName: `${sample.family}^${sample.given}`,
      birthDate: sample.birthDate.replace(/-/g, ''),
      studyStarted: new Date(study.started),
    };
    return generatePlannedPatient(withIdentity(plan, identity), OPTIONS);
  }
  throw new Error(`no phantom in the first ${PLANS_SEARCHED} of seed ${SEED} fits a sample study`);
}

/** The sample patients with their studies' DICOM (a few seconds: six radiographs are rendered). */
export function demoSamples(): DemoPatient[] {
  const taken = new Set<number>();
  return SAMPLES.map((sample) => ({
    patient: fhirPatient(sample),
    studies: sample.studies.map((study) => ({ started: study.started, knee: study.knee, phantom: phantomFor(sample, study, taken) })),
  }));
}

/** Each sample study's reference standard, by StudyInstanceUID: the demo's ground truth. */
export function referencesByStudy(samples: DemoPatient[]): Map<string, ReferencePatient> {
  const studies = samples.flatMap((sample) => sample.studies.map((study) => study.phantom.reference));
  return new Map(studies.flatMap((reference) => (reference.studyInstanceUid ? [[reference.studyInstanceUid, reference] as const] : [])));
}

/** Fills the PACS and the FHIR server (the clinician, the patients under their own ids); returns the StudyInstanceUIDs to analyse. */
export async function loadSamples(samples: DemoPatient[], fhir: FhirEngine, pacs: DicomWebClient): Promise<string[]> {
  const uids: string[] = [];
  await fhir.put(DEMO_CLINICIAN);
  for (const sample of samples) {
    const patient = await fhir.put(sample.patient);
    for (const study of sample.studies) {
      await pacs.storeInstances([study.phantom.ap, study.phantom.lateral]);
      const uid = study.phantom.reference.studyInstanceUid;
      if (!uid) throw new Error('a phantom study has no StudyInstanceUID');
      await fhir.create<ImagingStudy>({
        resourceType: 'ImagingStudy',
        status: 'available',
        subject: { reference: `Patient/${patient.id}` },
        started: study.started,
        description: `XR knee ${study.knee === 'L' ? 'left' : 'right'}, AP and lateral`,
        identifier: [{ system: SYSTEMS.dicomUid, value: studyIdentifierValue(uid) }],
        modality: [{ system: SYSTEMS.dicom, code: String(study.phantom.reference.attributes?.modality) }],
        numberOfInstances: 2,
      });
      uids.push(uid);
    }
  }
  return uids;
}
