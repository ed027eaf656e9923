/**
 * Corrupt studies in a real Orthanc, analysed by the running service with the real pipeline (the
 * test detector's ONNX ensemble): one knee study per class of damage, its AP view corrupted and
 * its lateral view intact. Each job fails with the class's code and a reason, and nothing reaches
 * the FHIR server; an intact study beside them is analysed and reported, so the set-up works.
 */
import request from 'supertest';
import type { DiagnosticReport } from 'fhir/r4';
import { generatePatient } from '../../models/phantoms/generate';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { loadPacsAnalysis } from '../../server/src/pipeline/pacs-analysis';
import { corruptionsOf, EXPECTED_CODES, PHANTOM, phantomSource, type CorruptClass } from '../support/corrupt-corpus';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer } from '../support/fhir-server';
import { startOrthanc } from '../support/orthanc';
import { startService, waitFor } from '../support/running-service';
import { testConfig, TRIGGER_TOKEN } from '../support/service-config';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

function studyUid(patient: ReturnType<typeof generatePatient>): string {
  const uid = patient.reference.studyInstanceUid;
  if (!uid) throw new Error('the phantom has no StudyInstanceUID');
  return uid;
}

const CLASSES: (keyof typeof EXPECTED_CODES)[] = ['truncated-stream', 'rows-halved', 'one-pixel', 'bits-allocated-8', 'bits-stored-0', 'high-bit-wrong', 'blank', 'huge-dimensions'];

it('fails the job of each corrupt study with the reason and writes nothing to FHIR; the intact study is reported', async () => {
  const fhir = await startFhirServer();
  const orthanc = await startOrthanc();
  const pacs = { dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 20000 };
  // The test detector is a demonstration model, which the service runs only when allowed.
  const config = testConfig(fhir.baseUrl, [], { pacs, model: { manifestPath: TEST_DETECTOR_MANIFEST, cpuThreads: 1, allowDemonstrationModel: true } });
  const { analyse, detector } = await loadPacsAnalysis(pacs, config.model, config.analysis, () => undefined);
  const running = await startService(config, analyse, detector.identity);
  try {
    const studies = CLASSES.map((corruption, i) => {
      const patient = generatePatient(PHANTOM.seed + 100 + i, 0, PHANTOM.options);
      const damaged = corruptionsOf(phantomSource('phantom knee AP', patient.ap)).find((c) => c.corruption === corruption);
      if (!damaged) throw new Error(`no ${corruption} variant of the phantom`);
      return { corruption: corruption as CorruptClass, uid: studyUid(patient), files: [damaged.bytes, patient.lateral] };
    });
    const intact = generatePatient(PHANTOM.seed + 99, 0, PHANTOM.options);
    const intactUid = studyUid(intact);
    await new DicomWebClient(pacs).storeInstances([...studies.flatMap((s) => s.files), intact.ap, intact.lateral]);
    const patients = new Map<string, string>();
    for (const uid of [...studies.map((s) => s.uid), intactUid]) {
      patients.set(uid, (await registerStudy(fhir, uid)).patientId);
      await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    }
    const settled = (uid: string) =>
      waitFor(
        'the job to settle',
        () => {
          const job = running.service.jobs.forStudy(uid);
          return job?.state === 'done' || job?.state === 'failed' ? job : undefined;
        },
        60000,
      );
    for (const study of studies) {
      const job = await settled(study.uid);
      expect({ corruption: study.corruption, state: job.state, expected: (EXPECTED_CODES[study.corruption as keyof typeof EXPECTED_CODES] as readonly string[]).includes(job.errorCode ?? '') }).toEqual({
        corruption: study.corruption,
        state: 'failed',
        expected: true,
      });
      expect(job.errorReason).toMatch(/\w+/);
      expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patients.get(study.uid)}`)).toEqual([]);
    }
    expect(await settled(intactUid)).toMatchObject({ state: 'done' });
    expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patients.get(intactUid)}`)).toHaveLength(1);
  } finally {
    await running.stop();
    await detector.release();
    await orthanc.stop();
    await fhir.stop();
  }
}, 240000);
