/**
 * Corrupt studies in a real Orthanc, analysed by the running service with the real pipeline (the
 * test detector's ONNX ensemble): one knee study per class of damage, its AP view corrupted and
 * its lateral view intact. Each job fails with the class's code and a reason, and nothing reaches
 * the FHIR server; an intact study beside them is analysed and reported, so the set-up works.
 */
import type { DiagnosticReport } from 'fhir/r4';
import { generatePatient } from '../../models/phantoms/generate';
import { corruptPhantomStudy, EXPECTED_CODES, PHANTOM, type CorruptClass } from '../support/corrupt-corpus';
import { startDetectorService } from '../support/detector-service';
import { registerStudy } from '../support/fhir-fixtures';

function studyUid(patient: ReturnType<typeof generatePatient>): string {
  const uid = patient.reference.studyInstanceUid;
  if (!uid) throw new Error('the phantom has no StudyInstanceUID');
  return uid;
}

const CLASSES: (keyof typeof EXPECTED_CODES)[] = [
  'truncated-stream',
  'rows-halved',
  'one-pixel',
  'bits-allocated-8',
  'bits-stored-0',
  'high-bit-wrong',
  'blank',
  'huge-dimensions',
  'pixel-representation-signed',
  'multi-frame',
  'second-image-appended',
];

it('fails the job of each corrupt study with the reason and writes nothing to FHIR; the intact study is reported', async () => {
  const service = await startDetectorService();
  const { fhir, settled } = service;
  try {
    const studies = [];
    for (const [i, corruption] of CLASSES.entries()) {
      // Patients of distinct seeds, so that each study is its own.
      const { patient, damaged } = await corruptPhantomStudy(corruption, PHANTOM.seed + 100 + 20 * i);
      studies.push({ corruption: corruption as CorruptClass, uid: studyUid(patient), files: [damaged.bytes, patient.lateral] });
    }
    const intact = generatePatient(PHANTOM.seed + 99, 0, PHANTOM.options);
    const intactUid = studyUid(intact);
    await service.pacs.storeInstances([...studies.flatMap((s) => s.files), intact.ap, intact.lateral]);
    const patients = new Map<string, string>();
    for (const uid of [...studies.map((s) => s.uid), intactUid]) {
      patients.set(uid, (await registerStudy(fhir, uid)).patientId);
      await service.trigger(uid);
    }
    for (const study of studies) {
      const job = await settled(study.uid, 60000);
      expect({ corruption: study.corruption, state: job.state, expected: (EXPECTED_CODES[study.corruption as keyof typeof EXPECTED_CODES] as readonly string[]).includes(job.errorCode ?? '') }).toEqual({
        corruption: study.corruption,
        state: 'failed',
        expected: true,
      });
      expect(job.errorReason).toMatch(/\w+/);
      expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patients.get(study.uid)}`)).toEqual([]);
    }
    expect(await settled(intactUid, 60000)).toMatchObject({ state: 'done' });
    expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patients.get(intactUid)}`)).toHaveLength(1);
  } finally {
    await service.stop();
  }
}, 240000);
