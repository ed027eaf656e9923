/**
 * Faults with real servers: the PACS (Orthanc) stopped, and the FHIR server stopped then back.
 * Each ends in its asserted state: retried then failed with the reason, or retried then done once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { DiagnosticReport } from 'fhir/r4';
import { startOrthanc } from '../support/orthanc';
import { startFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';
import { qidoAnalyse, stowFile } from '../support/qido-analyse';
import { startService, waitFor } from '../support/running-service';
import { TRIGGER_TOKEN, testConfig } from '../support/service-config';

const RG3 = path.resolve(__dirname, '../../../shared/data/dicom/RG3_512_explicitLE.dcm');

it('PACS down: the job is retried with backoff, then fails with pacs-unreachable', async () => {
  const fhir = await startFhirServer();
  const orthanc = await startOrthanc();
  const running = await startService(testConfig(fhir.baseUrl, []), qidoAnalyse(orthanc.dicomWebUrl));
  try {
    await orthanc.stop();
    const uid = '1.2.826.0.1.3680043.8.498.4242';
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const retried = await waitFor('a retry', () => {
      const job = running.service.jobs.forStudy(uid);
      return job && job.attempts >= 1 && job.state === 'queued' ? job : undefined;
    });
    expect(retried).toMatchObject({ errorCode: 'pacs-unreachable' });
    expect(retried.notBefore).toBeGreaterThan(retried.updatedAt);
    const failed = await waitFor('the job to fail', () => (running.service.jobs.forStudy(uid)?.state === 'failed' ? running.service.jobs.forStudy(uid) : undefined));
    expect(failed).toMatchObject({ attempts: 3, errorCode: 'pacs-unreachable', errorReason: 'the PACS did not answer (gave up after 3 attempts)' });
  } finally {
    await running.stop();
    await fhir.stop();
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
    const waiting = await waitFor('a retry', () => {
      const job = running.service.jobs.forStudy(uid);
      return job?.errorCode === 'fhir-unreachable' ? job : undefined;
    });
    expect(waiting.state).toBe('queued');
    await fhir.start();
    const done = await waitFor('the job to be done', () => (running.service.jobs.forStudy(uid)?.state === 'done' ? running.service.jobs.forStudy(uid) : undefined));
    expect(done.attempts).toBeGreaterThan(1);
    expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(1);
  } finally {
    await running.stop();
    await orthanc.stop();
    await fhir.stop();
  }
});
