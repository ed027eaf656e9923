/**
 * Faults with real servers: the PACS (Orthanc) stopped, a study the PACS does not have, and the
 * FHIR server stopped then back. The PACS faults run the production analysis (DicomWebSource over
 * the DICOMweb client), so the codes and reasons asserted are the ones the service gives. Each ends
 * in its asserted state: retried then failed with the reason (and its card), or retried then done once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { DiagnosticReport } from 'fhir/r4';
import { startOrthanc } from '../support/orthanc';
import { startFhirServer } from '../support/fhir-server';
import { RECENT_STUDY_DATE, registerStudy } from '../support/fhir-fixtures';
import { loadPacsAnalysis } from '../../server/src/pipeline/pacs-analysis';
import { qidoAnalyse, stowFile } from '../support/qido-analyse';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';
import { startTriggeredService } from '../support/triggered-service';
import { startService, waitFor } from '../support/running-service';
import { TRIGGER_TOKEN, testConfig } from '../support/service-config';

const RG3 = path.resolve(__dirname, '../../../shared/data/dicom/RG3_512_explicitLE.dcm');

/** The production analysis (DicomWebSource over DicomWebClient, the test detector's ONNX ensemble) on the given PACS. */
async function productionAnalysis(fhirBaseUrl: string, dicomWebUrl: string) {
  const pacs = { dicomWebUrl, timeoutMs: 3000 };
  // The test detector is a demonstration model, which the service runs only when allowed.
  const config = testConfig(fhirBaseUrl, [], { pacs, model: { manifestPath: TEST_DETECTOR_MANIFEST, cpuThreads: 1, allowDemonstrationModel: true } });
  const { analyse, detector } = await loadPacsAnalysis(pacs, config.model, config.analysis, () => undefined);
  return { config, analyse, detector };
}

it('PACS down: the job is retried with backoff, then fails with pacs-unreachable from the production DICOMweb client', async () => {
  const fhir = await startFhirServer();
  const orthanc = await startOrthanc();
  const { config, analyse, detector } = await productionAnalysis(fhir.baseUrl, orthanc.dicomWebUrl);
  const running = await startService(config, analyse, detector.identity);
  try {
    await orthanc.stop();
    const uid = '1.2.826.0.1.3680043.8.498.4242';
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const retried = await waitFor('a retry', async () => {
      const job = await running.service.jobs.forStudy(uid);
      return job && job.attempts >= 1 && job.state === 'queued' ? job : undefined;
    });
    expect(retried).toMatchObject({ errorCode: 'pacs-unreachable' });
    expect(retried.notBefore).toBeGreaterThan(retried.updatedAt);
    const failed = await waitFor('the job to fail', async () => ((await running.service.jobs.forStudy(uid))?.state === 'failed' ? await running.service.jobs.forStudy(uid) : undefined));
    expect(failed).toMatchObject({
      attempts: 3,
      errorCode: 'pacs-unreachable',
      errorReason: `QIDO-RS series search: cannot reach ${orthanc.dicomWebUrl} (gave up after 3 attempts)`,
    });
  } finally {
    await running.stop();
    await detector.release();
    await fhir.stop();
  }
});

it('a study the PACS does not have fails after missingStudyAttempts, and patient-view says the PACS does not have it', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.4343';
  const model = { manifestPath: TEST_DETECTOR_MANIFEST, cpuThreads: 1, allowDemonstrationModel: true };
  const stack = await startTriggeredService(
    async (orthanc, config) => {
      const { analyse, detector } = await loadPacsAnalysis({ dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 3000 }, config.model, config.analysis, () => undefined);
      return { analyse, model: detector.identity, release: () => detector.release() };
    },
    { model, jobs: { ...testConfig('http://127.0.0.1:9/fhir', []).jobs, missingStudyAttempts: 2 } },
  );
  try {
    const { patientId } = await registerStudy(stack.fhir, uid);
    await request(stack.running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const job = await stack.settled(uid);
    expect(job).toMatchObject({ state: 'failed', errorCode: 'study-not-found', attempts: 2 });
    const cards = await stack.patientView(patientId);
    expect(cards).toEqual([
      expect.objectContaining({ indicator: 'info', summary: `Knee radiographs of ${RECENT_STUDY_DATE} not found on the PACS: no AI analysis` }),
    ]);
    expect((cards[0] as { detail?: string }).detail).toContain('looked for these knee radiographs on the PACS 2 times and the PACS does not have them');
  } finally {
    await stack.stop();
  }
});

it('FHIR down: the job waits with fhir-unreachable and completes once when FHIR is back', async () => {
  const fhir = await startFhirServer();
  const orthanc = await startOrthanc();
  const config = testConfig(fhir.baseUrl, [], {});
  const running = await startService({ ...config, jobs: { ...config.jobs, maxAttempts: 50, initialBackoffMs: 100, maxBackoffMs: 300 } }, qidoAnalyse(orthanc.dicomWebUrl));
  try {
    const uid = await stowFile(orthanc.dicomWebUrl, readFileSync(RG3));
    const { patientId } = await registerStudy(fhir, uid);
    await fhir.stop();
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const waiting = await waitFor('a retry', async () => {
      const job = await running.service.jobs.forStudy(uid);
      return job?.errorCode === 'fhir-unreachable' ? job : undefined;
    });
    expect(waiting.state).toBe('queued');
    await fhir.start();
    const done = await waitFor('the job to be done', async () => ((await running.service.jobs.forStudy(uid))?.state === 'done' ? await running.service.jobs.forStudy(uid) : undefined));
    expect(done.attempts).toBeGreaterThan(1);
    expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(1);
  } finally {
    await running.stop();
    await orthanc.stop();
    await fhir.stop();
  }
});
