/**
 * What an operator watches, against real components (Orthanc, the FHIR engine, a JWKS served over
 * HTTP, SQLite): the metrics and the audit trail show a hook, a job and an image view (and the
 * refusals), without patient data; /ready names each dependency and turns unready when Orthanc
 * stops, while /health stays up.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SignJWT } from 'jose';
import request from 'supertest';
import type { Config } from '../../server/src/config';
import { sampleAnalysis } from '../support/analysis-fixture';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { startJwksIssuer, type JwksIssuer } from '../support/jwks-issuer';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { stowFile } from '../support/qido-analyse';
import { startService, waitFor, type RunningService } from '../support/running-service';
import { SERVICE_BASE, TRIGGER_TOKEN, testConfig } from '../support/service-config';
import { SHARED_DICOM } from '../support/shared-data';

const PATIENT_VIEW = 'knee-tumor-patient-view';

let orthanc: RunningOrthanc;
let fhir: RunningFhirServer;
let ehr: TestCdsClient;
let keys: JwksIssuer;
let authIssuer: string;
let config: Config;
let running: RunningService;

beforeAll(async () => {
  [orthanc, fhir, ehr] = await Promise.all([startOrthanc(), startFhirServer(), createTestCdsClient()]);
  keys = await startJwksIssuer('ehr-1');
  authIssuer = keys.issuer;
  config = testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks }], {
    pacs: { dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 2000 },
    smart: { issuer: authIssuer, jwksUrl: `${authIssuer}/jwks`, fhirBaseUrl: fhir.baseUrl },
  });
  running = await startService(config, async (uid) => sampleAnalysis({ studyInstanceUid: uid, positive: true }));
}, 60000);
afterAll(async () => {
  await running?.stop();
  await Promise.all([orthanc?.stop(), fhir?.stop(), keys?.stop()]);
});

/** A SMART access token of the EHR for the app, as its authorization server issues one. */
function accessToken(claims: Record<string, unknown>, audience = fhir.baseUrl): Promise<string> {
  return new SignJWT({ scope: 'launch patient/ImagingStudy.rs', ...claims })
    .setProtectedHeader({ alg: 'ES384', kid: 'ehr-1' })
    .setIssuer(authIssuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(keys.privateKey);
}

async function firstInstance(studyUid: string): Promise<string> {
  const answer = (await (await fetch(`${orthanc.dicomWebUrl}/studies/${studyUid}/instances`, { headers: { Accept: 'application/dicom+json' } })).json()) as Array<Record<string, { Value: string[] }>>;
  return answer[0]?.['00080018']?.Value[0] as string;
}

function auditLines(): Array<Record<string, unknown>> {
  const file = config.operations.auditLogPath as string;
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics and the audit trail', () => {
  it('show a hook, a job and an image view, and the refusals, with ids only', async () => {
    const study = await stowFile(orthanc.dicomWebUrl, readFileSync(path.join(SHARED_DICOM, 'RG3_512_explicitLE.dcm')));
    const instance = await firstInstance(study);
    const { patientId } = await registerStudy(fhir, study);

    // A job: triggered, analysed, written to the FHIR server.
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: study }).expect(202);
    await waitFor('the job to be done', async () => ((await running.service.jobs.forStudy(study))?.state === 'done' ? true : undefined));

    // A hook, a refused hook, and feedback on a card.
    const hookToken = await ehr.token(`${SERVICE_BASE}/cds-services/${PATIENT_VIEW}`);
    const hookBody = { hook: 'patient-view', hookInstance: randomUUID(), context: { patientId }, prefetch: { kneeStudies: null, analysisReports: null } };
    await request(running.url).post(`/cds-services/${PATIENT_VIEW}`).set('Authorization', `Bearer ${hookToken}`).send(hookBody).expect(200);
    await request(running.url).post(`/cds-services/${PATIENT_VIEW}`).send(hookBody).expect(401);
    const feedbackToken = await ehr.token(`${SERVICE_BASE}/cds-services/${PATIENT_VIEW}/feedback`);
    await request(running.url)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .set('Authorization', `Bearer ${feedbackToken}`)
      .send({ feedback: [{ card: randomUUID(), outcome: 'accepted', outcomeTimestamp: new Date().toISOString() }] })
      .expect(200);

    // An image view, and a viewer token for another FHIR server refused.
    const image = `/app-api/studies/${study}/instances/${instance}/rendered`;
    const viewed = await request(running.url).get(image).set('Authorization', `Bearer ${await accessToken({ patient: patientId, sub: 'dr-house', fhirUser: 'Practitioner/dr-1' })}`);
    expect([viewed.status, viewed.headers['content-type']]).toEqual([200, 'image/png']);
    await request(running.url)
      .get(image)
      .set('Authorization', `Bearer ${await accessToken({ patient: patientId }, 'https://other.example.org/fhir')}`)
      .expect(401);

    const metrics = (await request(running.url).get('/metrics').expect(200)).text;
    expect(metrics).toContain(`knee_tumor_hook_requests_total{service="${PATIENT_VIEW}",status="200"} 1`);
    expect(metrics).toContain(`knee_tumor_hook_requests_total{service="${PATIENT_VIEW}",status="401"} 1`);
    expect(metrics).toContain(`knee_tumor_hook_duration_seconds_count{service="${PATIENT_VIEW}"} 2`);
    expect(metrics).toContain('knee_tumor_jobs{state="done"} 1');
    expect(metrics).toContain('knee_tumor_jobs{state="queued"} 0');
    expect(metrics).toContain('knee_tumor_queue_age_seconds 0');
    expect(metrics).toContain('knee_tumor_analysis_duration_seconds_count{outcome="ok"} 1');
    expect(metrics).toContain('knee_tumor_fhir_write_duration_seconds_count{outcome="ok"} 1');
    expect(metrics).toMatch(/knee_tumor_process_resident_memory_bytes \d+/);

    await waitFor('the audit trail to be written', () => (auditLines().some((l) => l.audit === 'image-viewed') ? true : undefined), 5000);
    const audit = auditLines();
    expect(audit.find((l) => l.audit === 'image-viewed')).toMatchObject({ issuer: authIssuer, user: 'Practitioner/dr-1', study, instance });
    expect(audit.filter((l) => l.audit === 'token-refused').map((l) => [l.surface, l.code])).toEqual([
      ['cds', 'unauthorized'],
      // A token for another FHIR server (aud) is one this service cannot accept, not an ended session.
      ['viewer', 'token-unverifiable'],
    ]);
    expect(audit.find((l) => l.audit === 'feedback')).toMatchObject({ surface: 'cds', service: PATIENT_VIEW, issuer: ehr.issuer, count: 1 });
    expect(readFileSync(config.operations.auditLogPath as string, 'utf8')).not.toContain(patientId);
  }, 60000);
});

describe('readiness', () => {
  it('names each dependency, and turns unready when Orthanc stops while /health stays up', async () => {
    const ready = await request(running.url).get('/ready');
    expect([ready.status, ready.body]).toEqual([
      200,
      { status: 'ready', checks: { pacs: { status: 'ok' }, fhir: { status: 'ok' }, jobStore: { status: 'ok' }, model: { status: 'ok' } } },
    ]);

    await orthanc.stop();
    const unready = await request(running.url).get('/ready');
    expect(unready.status).toBe(503);
    expect(unready.body.status).toBe('unready');
    expect(unready.body.checks.pacs).toEqual({ status: 'failed', reason: expect.stringMatching(/^pacs-unreachable: /) });
    expect(unready.body.checks.fhir).toEqual({ status: 'ok' });
    await request(running.url).get('/health').expect(200, { status: 'ok' });

    await fhir.stop();
    const bothDown = await request(running.url).get('/ready').expect(503);
    expect(bothDown.body.checks.fhir).toEqual({ status: 'failed', reason: expect.stringMatching(/^fhir-unreachable: /) });
    await fhir.start();
  }, 30000);
});
