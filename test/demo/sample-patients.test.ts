/**
 * The demo's sample patients as the demo serves them: every DICOM file a real Orthanc holds for a
 * sample study names the patient of the study's FHIR ImagingStudy (name, MRN, birth date, sex, age
 * on the study date), and the chart (the demo started as `npm run demo` starts it, with the test
 * detector) shows each study's reference standard right after the study's card.
 */
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bundle, ImagingStudy, Patient } from 'fhir/r4';
import { demoSamples, loadSamples, MRN_SYSTEM, type DemoPatient } from '../../server/src/demo/sample-data';
import type { ReferencePatient } from '../../server/src/domain/reference';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { createFhirEngine } from '../../server/src/fhir/memory-engine';
import { startDemo, type RunningDemo } from '../support/demo';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

/** FHIR administrative gender as DICOM PatientSex (PS3.3 C.7.1.1). */
const DICOM_SEX: Record<string, string> = { female: 'F', male: 'M', other: 'O' };

let samples: DemoPatient[];

beforeAll(() => {
  samples = demoSamples();
}, 300000);

function studyUid(study: ImagingStudy): string {
  return (study.identifier?.[0]?.value ?? '').replace(/^urn:oid:/, '');
}

function sampleReference(uid: string): ReferencePatient {
  const reference = samples.flatMap((s) => s.studies.map((study) => study.phantom.reference)).find((r) => r.studyInstanceUid === uid);
  if (!reference) throw new Error(`no sample study ${uid}`);
  return reference;
}

/** Whole years from a FHIR date to a DICOM DA, by calendar dates. */
function ageInYears(birthDate: string, studyDate: string): number {
  const born = new Date(`${birthDate}T00:00:00Z`);
  const day = new Date(`${studyDate.slice(0, 4)}-${studyDate.slice(4, 6)}-${studyDate.slice(6, 8)}T00:00:00Z`);
  const birthday = new Date(born);
  birthday.setUTCFullYear(day.getUTCFullYear());
  return day.getUTCFullYear() - born.getUTCFullYear() - (birthday > day ? 1 : 0);
}

function text(instance: DicomJson, tag: string): unknown {
  const value = instance[tag]?.Value?.[0];
  return typeof value === 'object' && value !== null && 'Alphabetic' in value ? (value as { Alphabetic: unknown }).Alphabetic : value;
}

async function bundle<T>(url: string): Promise<T[]> {
  const response = await fetch(url);
  return ((await response.json()) as Bundle).entry?.map((e) => e.resource as T) ?? [];
}

describe('in the PACS', () => {
  let orthanc: RunningOrthanc;
  const fhir = createFhirEngine();

  beforeAll(async () => {
    orthanc = await startOrthanc();
    await loadSamples(samples, fhir, new DicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 20000 }));
  }, 120000);

  afterAll(async () => {
    await orthanc?.stop();
  });

  it("every DICOM file of a sample study has its FHIR patient's name, MRN, birth date, sex and age on the study date", async () => {
    const studies = ((await fhir.handle('GET', 'ImagingStudy', undefined)).body as Bundle).entry?.map((e) => e.resource as ImagingStudy) ?? [];
    expect(studies).toHaveLength(samples.flatMap((s) => s.studies).length);
    for (const study of studies) {
      const patient = (await fhir.handle('GET', study.subject?.reference ?? '', undefined)).body as Patient;
      const name = patient.name?.[0];
      const response = await fetch(`${orthanc.dicomWebUrl}/studies/${studyUid(study)}/metadata`, { headers: { Accept: 'application/dicom+json' } });
      const instances = (await response.json()) as DicomJson[];
      expect(instances).toHaveLength(2);
      for (const instance of instances) {
        const studyDate = String(text(instance, '00080020'));
        const age = ageInYears(patient.birthDate ?? '', studyDate);
        expect({
          name: text(instance, '00100010'),
          id: text(instance, '00100020'),
          birthDate: text(instance, '00100030'),
          sex: text(instance, '00100040'),
          age: text(instance, '00101010'),
          studyDate,
        }).toEqual({
          name: `${name?.family}^${name?.given?.join(' ')}`,
          id: patient.identifier?.find((i) => i.system === MRN_SYSTEM)?.value,
          birthDate: patient.birthDate?.replace(/-/g, ''),
          sex: DICOM_SEX[patient.gender ?? 'unknown'],
          age: `${String(age).padStart(3, '0')}Y`,
          studyDate: study.started?.slice(0, 10).replace(/-/g, ''),
        });
      }
    }
  });
});

describe('on the chart', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDemo({ model: TEST_DETECTOR_MANIFEST, jobsDb: path.join(mkdtempSync(path.join(os.tmpdir(), 'demo-samples-')), 'jobs.sqlite') });
  }, 180000);

  afterAll(async () => {
    await demo?.stop();
  });

  it("shows each study's reference standard, labelled as the demo's, right after the study's card", async () => {
    const patients = await bundle<Patient>(`${demo.base}/fhir/Patient`);
    expect(patients).toHaveLength(samples.length);
    for (const patient of patients) {
      const studies = await bundle<ImagingStudy>(`${demo.base}/fhir/ImagingStudy?patient=Patient/${patient.id}`);
      const html = await (await fetch(`${demo.base}/ehr/patients/${patient.id}`)).text();
      const cards = [...html.matchAll(/<section class="card[\s\S]*?<\/section>(?:<aside class="reference" data-study="([^"]*)"[^>]*>([\s\S]*?)<\/aside>)?/g)].map((m) => {
        const href = /href="[^"]*\?([^"]*appContext[^"]*)"/.exec(m[0])?.[1] ?? '';
        const context = JSON.parse(new URLSearchParams(href.replace(/&amp;/g, '&')).get('appContext') ?? '{}') as { studyInstanceUid?: string };
        return { card: context.studyInstanceUid, reference: m[1], words: (m[2] ?? '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
      });
      expect(cards.map((c) => c.card).sort()).toEqual(studies.map(studyUid).sort());
      for (const { card, reference, words } of cards) {
        expect(reference).toBe(card);
        expect(words).toMatch(/Reference \(synthetic phantom\):/);
        expect(words).toMatch(/ground truth/);
        const truth = sampleReference(card ?? '');
        if (!truth.tumor) {
          expect(words).toMatch(/: no tumor/);
          continue;
        }
        for (const image of truth.images) {
          const view = image.view === 'AP' ? 'the AP view' : 'the lateral view';
          const box = image.boxes[0];
          if (box) expect(words).toContain(`${view} (box x ${Math.round(box.x)}, y ${Math.round(box.y)}`);
          else expect(words).not.toContain(view);
        }
      }
    }
  });
});
