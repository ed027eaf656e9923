/**
 * End to end, no manual step: STOW-RS of a radiograph into a real Orthanc, its stable-study Lua
 * callback calls our trigger, the worker analyses the study (detector test double over real
 * QIDO-RS) and writes the DiagnosticReport to the FHIR engine, and patient-view shows a warning
 * card. Then the same study triggered three times at once stays one job and one report.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Bundle, DiagnosticReport, FhirResource, ImagingStudy } from 'fhir/r4';
import { startOrthanc, freePort, type RunningOrthanc } from '../support/orthanc';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { qidoAnalyse, stowFile } from '../support/qido-analyse';
import { startService, waitFor, type RunningService } from '../support/running-service';
import { SERVICE_BASE, TRIGGER_TOKEN, testConfig } from '../support/service-config';

const repo = path.resolve(__dirname, '../..');
const RG3 = path.resolve(repo, '../shared/data/dicom/RG3_512_explicitLE.dcm');

let orthanc: RunningOrthanc;
let fhir: RunningFhirServer;
let running: RunningService;
let ehr: TestCdsClient;

beforeAll(async () => {
  fhir = await startFhirServer();
  ehr = await createTestCdsClient();
  const port = await freePort();
  const settings = path.join(mkdtempSync(path.join(os.tmpdir(), 'lua-')), 'knee-tumor-settings.lua');
  writeFileSync(settings, `KNEE_TUMOR_TRIGGER = { url = 'http://127.0.0.1:${port}/triggers/orthanc', token = '${TRIGGER_TOKEN}' }\n`);
  orthanc = await startOrthanc({ luaScripts: [settings, path.join(repo, 'server/orthanc/on-stable-study.lua')], stableAgeSeconds: 1 });
  running = await startService(testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks }], { service: { baseUrl: SERVICE_BASE, port, appLaunchUrl: 'https://viewer.example.org/launch', modelCardUrl: 'https://knee-tumor.example.org/model-card' } }), qidoAnalyse(orthanc.dicomWebUrl));
}, 60000);
afterAll(async () => {
  await running?.stop();
  await orthanc?.stop();
  await fhir?.stop();
});

it('STOW → stable study → report in FHIR → warning card on patient-view; triple trigger stays one job', async () => {
  const uid = await stowFile(orthanc.dicomWebUrl, readFileSync(RG3));
  const { patientId } = await registerStudy(fhir, uid);

  const job = await waitFor('the job to be done', () => {
    const j = running.service.jobs.forStudy(uid);
    return j?.state === 'done' || j?.state === 'failed' ? j : undefined;
  });
  expect(job).toMatchObject({ state: 'done', source: 'orthanc', attempts: 1 });
  const reports = await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
  expect(reports).toHaveLength(1);
  expect(job.report).toBe(`DiagnosticReport/${reports[0]?.id}`);
  expect(reports[0]?.meta?.security?.[0]?.code).toBe('AIAST');

  const bundle = (resources: FhirResource[]): Bundle<FhirResource> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  const prefetch = {
    kneeStudies: bundle(await fhir.search<ImagingStudy>(`ImagingStudy?patient=Patient/${patientId}`)),
    analysisReports: bundle(reports),
  };
  const token = await ehr.token(`${SERVICE_BASE}/cds-services/knee-tumor-patient-view`);
  const hook = await request(running.url)
    .post('/cds-services/knee-tumor-patient-view')
    .set('Authorization', `Bearer ${token}`)
    .send({ hook: 'patient-view', hookInstance: randomUUID(), context: { patientId }, prefetch })
    .expect(200);
  expect(hook.body.cards).toEqual([expect.objectContaining({ indicator: 'warning', summary: 'Possible bone tumor on the lateral view, confidence 0.93, 4/5 models agree.' })]);
  expect(JSON.parse(hook.body.cards[0].links[0].appContext)).toMatchObject({ studyInstanceUid: uid });

  const again = await Promise.all(
    ['/triggers/studies', '/triggers/studies', '/triggers/orthanc'].map((route) =>
      request(running.url).post(route).set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }),
    ),
  );
  expect(again.map((r) => r.status)).toEqual([202, 202, 202]);
  expect(new Set(again.map((r) => r.body.jobs[0].job))).toEqual(new Set([job.id]));
  expect(again.every((r) => r.body.jobs[0].created === false && r.body.jobs[0].state === 'done')).toBe(true);
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(1);
});
