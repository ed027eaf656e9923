/**
 * Studies that are not one patient's two radiographs, in a real Orthanc, analysed by the running
 * service with the real pipeline (issue 19): the AP of one phantom patient and the lateral of
 * another (same knee) under one StudyInstanceUID; two views that share one SOP Instance UID (in
 * different series, which Orthanc stores as two instances); a lateral view stored as a Secondary
 * Capture that says Modality DX, which is not taken for the view. Each job fails at once with its code and a reason that names no
 * patient value, and nothing reaches the FHIR server; an intact study beside them is reported.
 */
import type { DiagnosticReport } from 'fhir/r4';
import { generatePatient, type GeneratedPatient } from '../../models/phantoms/generate';
import { rewriteAttributes } from '../support/dicom-rewrite';
import { startDetectorService } from '../support/detector-service';
import { registerStudy } from '../support/fhir-fixtures';

const SMALL = { width: 440, height: 560, tumorFraction: 0.25 };

function studyUid(patient: GeneratedPatient): string {
  const uid = patient.reference.studyInstanceUid;
  if (!uid) throw new Error('the phantom has no StudyInstanceUID');
  return uid;
}

function imageUid(patient: GeneratedPatient, view: 'AP' | 'LATERAL'): string {
  const uid = patient.reference.images.find((i) => i.view === view)?.imageId;
  if (!uid) throw new Error(`the phantom has no ${view} image`);
  return uid;
}

it('fails the job of each inconsistent study with its code and reason and writes nothing to FHIR; the intact study is reported', async () => {
  // Patients 1 and 4 of seed 1: both left knees, the fourth with a tumor (the test team's reproduction).
  const [first, fourth] = [generatePatient(1, 0, SMALL), generatePatient(1, 3, SMALL)];
  expect([first.reference.laterality, fourth.reference.laterality]).toEqual(['L', 'L']);
  const oneUid = generatePatient(2, 0, SMALL);
  const screenshot = generatePatient(2, 1, SMALL);
  const intact = generatePatient(2, 2, SMALL);
  const studies = [
    {
      name: 'two patients',
      uid: studyUid(first),
      files: [first.ap, rewriteAttributes(fourth.lateral, { StudyInstanceUID: studyUid(first) })],
      code: 'study-inconsistent',
      reason: "the AP and lateral views differ in Patient ID, Patient's Name, Patient's Birth Date: they are not one patient's study",
    },
    {
      name: 'one SOP Instance UID',
      uid: studyUid(oneUid),
      files: [oneUid.ap, rewriteAttributes(oneUid.lateral, { SOPInstanceUID: imageUid(oneUid, 'AP') })],
      code: 'study-inconsistent',
      reason: '2 images of the study share 1 SOP Instance UID(s); each image must have its own',
    },
    {
      name: 'secondary capture',
      uid: studyUid(screenshot),
      files: [screenshot.ap, rewriteAttributes(screenshot.lateral, { SOPClassUID: '1.2.840.10008.5.1.4.1.1.7', Modality: 'DX' })],
      code: 'view-missing',
      reason:
        'the lateral view is missing: the study has 1 knee radiograph(s) (AP found); it also holds 1 Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7) labelled DX, not a radiograph SOP Class',
    },
  ];
  const service = await startDetectorService();
  const { fhir, settled } = service;
  try {
    await service.pacs.storeInstances([...studies.flatMap((s) => s.files), intact.ap, intact.lateral]);
    const patients = new Map<string, string>();
    for (const uid of [...studies.map((s) => s.uid), studyUid(intact)]) {
      patients.set(uid, (await registerStudy(fhir, uid)).patientId);
      await service.trigger(uid);
    }
    for (const study of studies) {
      const job = await settled(study.uid, 60000);
      // Refused on the first attempt: retrying cannot make two patients one.
      expect({ study: study.name, state: job.state, code: job.errorCode, reason: job.errorReason, attempts: job.attempts }).toEqual({
        study: study.name,
        state: 'failed',
        code: study.code,
        reason: study.reason,
        attempts: 1,
      });
      expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patients.get(study.uid)}`)).toEqual([]);
    }
    expect(await settled(studyUid(intact), 60000)).toMatchObject({ state: 'done' });
    expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patients.get(studyUid(intact))}`)).toHaveLength(1);
  } finally {
    await service.stop();
  }
}, 240000);
