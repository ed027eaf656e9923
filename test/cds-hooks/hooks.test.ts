/**
 * The CDS Hooks services over real HTTP (supertest), with signed JWTs, the real FHIR engine for
 * reports and fallback queries, and the real SQLite job store.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { Bundle, FhirResource, ImagingStudy } from 'fhir/r4';
import { PREFETCH, resolveTemplate } from '../../cds-hooks/patient-data';
import { AI_NOTICE, DEMONSTRATION_MODEL_NOTICE, type ModelIdentity } from '../../server/src/domain/analysis';
import { createService, type KneeTumorService } from '../../server/src/service';
import { createFhirClient } from '../../server/src/fhir/client';
import { writeReport } from '../../server/src/results/fhir/write-report';
import { KneeTumorError } from '../../server/src/errors';
import { silentLog } from '../../server/src/log';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { daysAgo, RECENT_STUDY_DATE, registerStudy } from '../support/fhir-fixtures';
import { DEMONSTRATION_MODEL, sampleAnalysis } from '../support/analysis-fixture';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { SERVICE_BASE, TEST_MODEL, testConfig } from '../support/service-config';

let fhir: RunningFhirServer;
let ehr: TestCdsClient;
let service: KneeTumorService;

beforeAll(async () => {
  fhir = await startFhirServer();
  ehr = await createTestCdsClient();
  // The fallback queries of these tests go to the FHIR engine (and to a closed port), both configured for this client.
  const fhirServers = [fhir.baseUrl, 'http://127.0.0.1:9/fhir'];
  service = createService(testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks, fhirServers }]), () => Promise.reject(new Error('not used')), TEST_MODEL, silentLog);
});
afterAll(async () => {
  await service.stop();
  await fhir.stop();
});

const newUid = () => `1.2.840.99.${Math.floor(Math.random() * 1e9)}`;
const writeAnalysis = (uid: string, positive: boolean, model?: ModelIdentity) =>
  writeReport(createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }), sampleAnalysis({ studyInstanceUid: uid, positive, model }));

async function patientWithReport(positive: boolean, model?: ModelIdentity): Promise<{ patientId: string; uid: string; report: string }> {
  const uid = newUid();
  const { patientId } = await registerStudy(fhir, uid);
  const { report } = await writeAnalysis(uid, positive, model);
  return { patientId, uid, report };
}

/** The prefetch an EHR fills from our templates (the reports with their Observations). */
async function prefetchFor(patientId: string): Promise<Record<string, Bundle<FhirResource>>> {
  const bundle = (resources: FhirResource[]): Bundle<FhirResource> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  const search = (template: string) => fhir.search<FhirResource>(resolveTemplate(template, { patientId }));
  return { kneeStudies: bundle(await search(PREFETCH.kneeStudies)), analysisReports: bundle(await search(PREFETCH.analysisReports)) };
}

async function patientViewCards(patientId: string, prefetch?: Record<string, Bundle<FhirResource>>) {
  const response = await callHook('knee-tumor-patient-view', hookBody('patient-view', { patientId }, { prefetch: prefetch ?? (await prefetchFor(patientId)) }));
  expect(response.status).toBe(200);
  return response.body.cards as Array<{ summary: string; detail: string; indicator: string; overrideReasons?: unknown[] }>;
}

const count = (text: string, part: string) => text.split(part).length - 1;

async function callHook(id: string, body: Record<string, unknown>) {
  const token = await ehr.token(`${SERVICE_BASE}/cds-services/${id}`);
  return request(service.app).post(`/cds-services/${id}`).set('Authorization', `Bearer ${token}`).send(body);
}

const hookBody = (hook: string, context: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ hook, hookInstance: randomUUID(), context, ...extra });

describe('discovery', () => {
  it('lists each service once with its prefetch, and every listed id is routed', async () => {
    const response = await request(service.app).get('/cds-services').expect(200);
    const services = response.body.services as Array<{ id: string; hook: string; prefetch: Record<string, string> }>;
    expect(services.map((s) => s.hook)).toEqual(['patient-view', 'order-select', 'order-sign']);
    for (const s of services) {
      expect(s.prefetch.kneeStudies).toBe('ImagingStudy?patient=Patient/{{context.patientId}}&_sort=-started&_count=10');
      const routed = await callHook(s.id, hookBody(s.hook, { patientId: 'none' }, { prefetch: { kneeStudies: null, analysisReports: null } }));
      expect(routed.status).toBe(200);
    }
  });

  it('answers a browser preflight with CORS headers', async () => {
    const response = await request(service.app)
      .options('/cds-services/knee-tumor-patient-view')
      .set('Origin', 'https://ehr.example.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type')
      .expect(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(response.headers['access-control-allow-methods']).toMatch(/POST/);
  });
});

describe('patient-view', () => {
  it('shows a warning card from prefetch, linking to the SMART app with the study and report', async () => {
    const { patientId, uid, report } = await patientWithReport(true);
    const response = await callHook('knee-tumor-patient-view', hookBody('patient-view', { patientId, userId: 'Practitioner/1' }, { prefetch: await prefetchFor(patientId) }));
    expect(response.status).toBe(200);
    const [card, ...others] = response.body.cards;
    expect(others).toEqual([]);
    expect(card).toMatchObject({
      summary: `Possible bone tumor, left knee (lateral view), radiographs of ${RECENT_STUDY_DATE}`,
      indicator: 'warning',
      source: {
        label: 'Knee bone tumor AI (knee-tumor 1.0.0)',
        url: 'https://knee-tumor.example.org/model-card',
        topic: { system: 'https://knee-tumor.example.org/fhir/CodeSystem/knee-tumor', code: 'bone-tumor-ai' },
      },
      links: [{ type: 'smart', url: 'https://viewer.knee-tumor.example.org/launch' }],
    });
    // The topic is a code of our published CodeSystem, so that an EHR can resolve it.
    const codeSystem = JSON.parse(readFileSync(path.resolve(__dirname, '../../fhir-profiles/CodeSystem-knee-tumor.json'), 'utf8')) as { url: string; concept: Array<{ code: string }> };
    expect(card.source.topic.system).toBe(codeSystem.url);
    expect(codeSystem.concept.map((c) => c.code)).toContain(card.source.topic.code);
    expect(card.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(card.summary.length).toBeLessThan(140);
    expect(count(card.detail, AI_NOTICE)).toBe(1);
    expect(JSON.parse(card.links[0].appContext)).toMatchObject({ studyInstanceUid: uid, diagnosticReport: report });
    expect(card.overrideReasons.length).toBeGreaterThan(0);
  });

  it('falls back to the FHIR server with fhirAuthorization when prefetch is absent', async () => {
    const { patientId } = await patientWithReport(false);
    const response = await callHook(
      'knee-tumor-patient-view',
      hookBody('patient-view', { patientId }, {
        fhirServer: fhir.baseUrl,
        fhirAuthorization: { access_token: 'ehr-access-token', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service' },
      }),
    );
    expect(response.status).toBe(200);
    expect(response.body.cards).toEqual([expect.objectContaining({ indicator: 'info', summary: `No bone tumor detected by the AI on the left knee radiographs of ${RECENT_STUDY_DATE}` })]);
  });

  it('a positive card adds to its summary: the evidence in words, what the confidence is not, and the next step', async () => {
    const { patientId } = await patientWithReport(true);
    const [card] = await patientViewCards(patientId);
    if (!card) throw new Error('no card');
    expect(card.detail).not.toContain(card.summary);
    expect(card.detail).toContain("The AI's confidence 0.93 on the lateral view is at or above the operating threshold 0.50 (4 of 5 models agree).");
    expect(card.detail).toContain('not a probability of cancer');
    expect(card.detail).toContain('**Next step:** Review the images; if a lesion is confirmed, refer along the local bone-tumor pathway.');
    expect(card.detail).not.toMatch(/synthetic/);
  });

  it('a demonstration model\'s cards are info and say it was trained on synthetic images, positive or not', async () => {
    for (const positive of [true, false]) {
      const { patientId } = await patientWithReport(positive, DEMONSTRATION_MODEL);
      const [card, ...others] = await patientViewCards(patientId);
      expect(others).toEqual([]);
      expect(card?.indicator).toBe('info');
      expect(card?.summary).toMatch(/^Demonstration model \(synthetic training images\): (possible bone tumor|no bone tumor detected)/);
      expect(card?.summary.length).toBeLessThan(140);
      expect(count(card?.detail ?? '', DEMONSTRATION_MODEL_NOTICE)).toBe(1);
      expect(count(card?.detail ?? '', AI_NOTICE)).toBe(1);
      // Feedback on a positive still counts: it is stored with the model version.
      expect(card?.overrideReasons !== undefined).toBe(positive);
    }
  });

  it('shows an earlier study after the newest one, saying it is earlier, and never as a warning', async () => {
    const older = newUid();
    const newer = newUid();
    const { patientId } = await registerStudy(fhir, newer);
    await fhir.create<ImagingStudy>({
      resourceType: 'ImagingStudy',
      status: 'available',
      subject: { reference: `Patient/${patientId}` },
      started: '2024-03-02T10:00:00Z',
      identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${older}` }],
    });
    await writeAnalysis(older, true);
    await writeAnalysis(newer, false);
    const cards = await patientViewCards(patientId);
    expect(cards.map((c) => [c.indicator, c.summary])).toEqual([
      ['info', `No bone tumor detected by the AI on the left knee radiographs of ${RECENT_STUDY_DATE}`],
      ['info', 'Possible bone tumor, left knee (lateral view), earlier radiographs of 2024-03-02'],
    ]);
    expect(cards[1]?.detail).toContain('The patient has more recent knee radiographs');
  });

  it('does not alert on a positive study taken more than currentStudyDays ago, even when it is the newest, and says why', async () => {
    const uid = newUid();
    const started = daysAgo(400);
    const { patientId } = await registerStudy(fhir, uid, started);
    await writeAnalysis(uid, true);
    const [card, ...others] = await patientViewCards(patientId);
    expect(others).toEqual([]);
    expect(card).toMatchObject({ indicator: 'info', summary: `Possible bone tumor, left knee (lateral view), earlier radiographs of ${started.slice(0, 10)}` });
    expect(card?.detail).toContain('These radiographs are more than 30 days old');
    expect(card?.overrideReasons).toBeDefined();
  });

  it('still words a card from the report alone when the EHR leaves out the Observations, and a report without the intended-use marker never alerts', async () => {
    const { patientId } = await patientWithReport(true);
    const prefetch = await prefetchFor(patientId);
    const reportsOnly = { ...prefetch.analysisReports, entry: prefetch.analysisReports?.entry?.filter((e) => e.resource?.resourceType === 'DiagnosticReport') } as Bundle<FhirResource>;
    const [card] = await patientViewCards(patientId, { ...prefetch, analysisReports: reportsOnly });
    expect(card).toMatchObject({ indicator: 'warning', summary: `Possible bone tumor, left knee, radiographs of ${RECENT_STUDY_DATE}` });
    const unmarked = {
      ...reportsOnly,
      entry: reportsOnly.entry?.map((e) => ({ resource: { ...e.resource, extension: (e.resource as { extension?: { url: string }[] }).extension?.filter((x) => !x.url.endsWith('/ai-model-intended-use')) } as FhirResource })),
    };
    const [old] = await patientViewCards(patientId, { ...prefetch, analysisReports: unmarked });
    expect(old?.indicator).toBe('info');
    expect(old?.detail).toContain('does not record which kind of model made it');
  });

  it('answers 412 when prefetch is absent and there is no FHIR server to ask, or it is down', async () => {
    const missing = await callHook('knee-tumor-patient-view', hookBody('patient-view', { patientId: 'p' }));
    expect(missing.status).toBe(412);
    expect(missing.body.code).toBe('prefetch-unavailable');
    const down = await callHook(
      'knee-tumor-patient-view',
      hookBody('patient-view', { patientId: 'p' }, {
        fhirServer: 'http://127.0.0.1:9/fhir',
        fhirAuthorization: { access_token: 't', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'x' },
      }),
    );
    expect(down.status).toBe(412);
  });

  it('shows "in progress" for a queued study and "could not analyse" with the reason for a refused one', async () => {
    const queued = `1.2.840.98.${Math.floor(Math.random() * 1e9)}`;
    const refused = `1.2.840.97.${Math.floor(Math.random() * 1e9)}`;
    const chest = `1.2.840.96.${Math.floor(Math.random() * 1e9)}`;
    const { patientId } = await registerStudy(fhir, queued);
    const patientStudies = await fhir.search<ImagingStudy>(`ImagingStudy?patient=Patient/${patientId}`);
    const extra = (uid: string, started: string): ImagingStudy => ({ ...(patientStudies[0] as ImagingStudy), id: `x${uid.slice(-6)}`, started, identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uid}` }] });
    await service.jobs.enqueue(queued, 'orthanc');
    for (const [uid, error] of [[refused, new KneeTumorError('view-missing', 'lateral view missing')], [chest, new KneeTumorError('not-knee', 'the images are not of a knee')]] as const) {
      const { job } = await service.jobs.enqueue(uid, 'orthanc');
      await service.jobs.claimNext();
      await service.jobs.fail(job.id, error);
    }
    const prefetch = await prefetchFor(patientId);
    prefetch.kneeStudies?.entry?.push({ resource: extra(refused, daysAgo(6)) }, { resource: extra(chest, daysAgo(7)) });
    const response = await callHook('knee-tumor-patient-view', hookBody('patient-view', { patientId }, { prefetch }));
    expect(response.body.cards.map((c: { summary: string; indicator: string }) => [c.indicator, c.summary])).toEqual([
      ['info', 'Knee radiograph AI analysis in progress'],
      ['info', 'Could not analyse the knee radiographs: lateral view missing'],
    ]);
  });
});

describe('order-select and order-sign', () => {
  const kneeOrder = { resourceType: 'ServiceRequest', id: 'o1', status: 'draft', intent: 'order', subject: { reference: 'Patient/x' }, code: { coding: [{ system: 'http://loinc.org', code: '24806-2' }] } };
  const chestOrder = { ...kneeOrder, id: 'o2', code: { text: 'XR chest 2 views' } };
  const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: kneeOrder }, { resource: chestOrder }] };

  it('shows the result when a knee radiograph order is selected, nothing for another order', async () => {
    const { patientId } = await patientWithReport(true);
    const prefetch = await prefetchFor(patientId);
    const knee = await callHook('knee-tumor-order-select', hookBody('order-select', { patientId, selections: ['ServiceRequest/o1'], draftOrders }, { prefetch }));
    expect(knee.body.cards).toEqual([expect.objectContaining({ indicator: 'warning' })]);
    const chest = await callHook('knee-tumor-order-select', hookBody('order-select', { patientId, selections: ['ServiceRequest/o2'], draftOrders }, { prefetch }));
    expect(chest.body.cards).toEqual([]);
  });

  it('shows the result when a knee radiograph order is signed', async () => {
    const { patientId } = await patientWithReport(true);
    const signed = await callHook('knee-tumor-order-sign', hookBody('order-sign', { patientId, draftOrders }, { prefetch: await prefetchFor(patientId) }));
    expect(signed.body.cards).toEqual([expect.objectContaining({ indicator: 'warning' })]);
  });
});

describe('feedback', () => {
  it('stores accepted and overridden outcomes with the model version and only the coded reason', async () => {
    const id = 'knee-tumor-patient-view';
    const token = await ehr.token(`${SERVICE_BASE}/cds-services/${id}/feedback`);
    await request(service.app)
      .post(`/cds-services/${id}/feedback`)
      .set('Authorization', `Bearer ${token}`)
      .send({
        feedback: [
          { card: 'c-1', outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: '2026-11-26T10:00:00Z' },
          { card: 'c-2', outcome: 'overridden', overrideReason: { reason: { code: 'disagree', system: 'x' }, userComment: 'free text' }, outcomeTimestamp: '2026-11-26T10:01:00Z' },
        ],
      })
      .expect(200);
    expect(await service.feedback.all()).toEqual([
      expect.objectContaining({ serviceId: id, card: 'c-1', outcome: 'accepted', model: 'knee-tumor@1.0.0', issuer: ehr.issuer }),
      expect.objectContaining({ card: 'c-2', outcome: 'overridden', overrideReason: 'disagree', model: 'knee-tumor@1.0.0' }),
    ]);
  });
});
