/**
 * What a hook may make us query, over real HTTP: only a FHIR server listed for the calling CDS
 * client is ever called (an unlisted one, a recording server, sees no request at all); a prefetch
 * that is an OperationOutcome (the client's own query failed) sends us to the listed server, else
 * 412; and a malformed body is refused with the path of the bad field.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4';
import { PREFETCH, resolveTemplate } from '../../cds-hooks/patient-data';
import { createService, type KneeTumorService } from '../../server/src/service';
import { createFhirClient } from '../../server/src/fhir/client';
import { writeReport } from '../../server/src/results/fhir/write-report';
import { silentLog } from '../../server/src/log';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';
import { sampleAnalysis } from '../support/analysis-fixture';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { startRecordingServer, type RecordingServer } from '../support/recording-server';
import { forward, requestBody, serveOnLoopback, type LoopbackServer } from '../support/loopback-proxy';
import { SERVICE_BASE, TEST_MODEL, testConfig } from '../support/service-config';

const SERVICE = 'knee-tumor-patient-view';

let fhir: RunningFhirServer;
/** A FHIR server no client lists: the service must never call it. */
let unlisted: RecordingServer;
let ehr: TestCdsClient;
/** Another client, whose own list does not include the FHIR engine. */
let otherEhr: TestCdsClient;
let service: KneeTumorService;
/** The FHIR engine behind a front door that lets a request through only with the hook's access token, as an EHR's FHIR server does. */
let guarded: LoopbackServer;
let guardedUrl: string;
const presentedTokens: (string | undefined)[] = [];

const fhirAuthorization = { access_token: 'ehr-access-token', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'knee-tumor' };

beforeAll(async () => {
  fhir = await startFhirServer();
  const origin = new URL(fhir.baseUrl).origin;
  guarded = await serveOnLoopback(async (req, res) => {
    const body = await requestBody(req);
    presentedTokens.push(req.headers.authorization);
    if (req.headers.authorization !== `Bearer ${fhirAuthorization.access_token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer error="invalid_token"' }).end('{"error":"invalid_token"}');
      return;
    }
    const answer = await forward(origin, req, body, ['authorization']);
    res.writeHead(answer.status, { 'Content-Type': answer.contentType }).end(answer.body);
  });
  guardedUrl = `http://127.0.0.1:${guarded.port}${new URL(fhir.baseUrl).pathname}`;
  unlisted = await startRecordingServer((_req, res) => void res.type('application/fhir+json').json({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
  [ehr, otherEhr] = await Promise.all([createTestCdsClient(), createTestCdsClient('https://other-ehr.example.org')]);
  const config = testConfig(fhir.baseUrl, [
    // With a trailing slash: the comparison is of the base, not of the spelling.
    { issuer: ehr.issuer, jwks: ehr.jwks, fhirServers: [`${fhir.baseUrl}/`, guardedUrl] },
    { issuer: otherEhr.issuer, jwks: otherEhr.jwks, fhirServers: [`${unlisted.origin}/elsewhere`] },
  ]);
  service = createService(config, () => Promise.reject(new Error('not used')), TEST_MODEL, silentLog);
});
afterAll(async () => {
  await service.stop();
  await unlisted.stop();
  await guarded.stop();
  await fhir.stop();
});

async function patientView(body: Record<string, unknown>, client: TestCdsClient = ehr) {
  const token = await client.token(`${SERVICE_BASE}/cds-services/${SERVICE}`);
  return request(service.app).post(`/cds-services/${SERVICE}`).set('Authorization', `Bearer ${token}`).send({ hook: 'patient-view', hookInstance: randomUUID(), ...body });
}

async function patientWithReport(): Promise<{ patientId: string; report: string }> {
  const uid = `1.2.840.99.${Math.floor(Math.random() * 1e9)}`;
  const { patientId } = await registerStudy(fhir, uid);
  const { report } = await writeReport(createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }), sampleAnalysis({ studyInstanceUid: uid, positive: true }));
  return { patientId, report };
}

async function prefetchFor(patientId: string): Promise<Record<string, Bundle<FhirResource>>> {
  const bundle = (resources: FhirResource[]): Bundle<FhirResource> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  const search = (template: string) => fhir.search<FhirResource>(resolveTemplate(template, { patientId }));
  return { kneeStudies: bundle(await search(PREFETCH.kneeStudies)), analysisReports: bundle(await search(PREFETCH.analysisReports)) };
}

const failedPrefetch: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout', diagnostics: 'the EHR timed out' }] };

describe('fhirServers allow-list', () => {
  it('refuses a hook naming an unlisted fhirServer with 412 before any request leaves', async () => {
    const fhirServer = `${unlisted.origin}/fhir`;
    const response = await patientView({ context: { patientId: 'p1' }, fhirServer, fhirAuthorization });
    expect(response.status).toBe(412);
    expect(response.body.code).toBe('prefetch-unavailable');
    expect(response.body.reason).toContain(`the fhirServer ${fhirServer} is not listed in cdsClients[].fhirServers for ${ehr.issuer}`);
    expect(unlisted.requests).toEqual([]);
  });

  it('takes each client\'s own list: another client cannot send us to the first one\'s server', async () => {
    const { patientId } = await patientWithReport();
    const response = await patientView({ context: { patientId }, fhirServer: fhir.baseUrl, fhirAuthorization }, otherEhr);
    expect(response.status).toBe(412);
    expect(response.body.reason).toContain(`the fhirServer ${fhir.baseUrl} is not listed`);
  });

  it('still answers from a complete prefetch when the named fhirServer is unlisted, without calling it', async () => {
    const { patientId, report } = await patientWithReport();
    const response = await patientView({ context: { patientId }, fhirServer: `${unlisted.origin}/fhir`, fhirAuthorization, prefetch: await prefetchFor(patientId) });
    expect(response.status).toBe(200);
    expect(response.body.cards.map((c: { links: Array<{ appContext: string }> }) => JSON.parse(c.links[0]?.appContext ?? '{}').diagnosticReport)).toEqual([report]);
    expect(unlisted.requests).toEqual([]);
  });

  it('queries a listed fhirServer, however its trailing slash is spelled', async () => {
    const { patientId, report } = await patientWithReport();
    const response = await patientView({ context: { patientId }, fhirServer: `${fhir.baseUrl}/`, fhirAuthorization });
    expect(response.status).toBe(200);
    expect(response.body.cards.map((c: { links: Array<{ appContext: string }> }) => JSON.parse(c.links[0]?.appContext ?? '{}').diagnosticReport)).toEqual([report]);
  });
});

describe('a prefetch value that is an OperationOutcome', () => {
  it('falls back to the listed FHIR server with fhirAuthorization, presenting its access token', async () => {
    const { patientId, report } = await patientWithReport();
    const prefetch = { ...(await prefetchFor(patientId)), analysisReports: failedPrefetch };
    presentedTokens.length = 0;
    const response = await patientView({ context: { patientId }, fhirServer: guardedUrl, fhirAuthorization, prefetch });
    expect(response.status).toBe(200);
    expect(response.body.cards).toEqual([expect.objectContaining({ indicator: 'warning' })]);
    expect(JSON.parse(response.body.cards[0].links[0].appContext).diagnosticReport).toBe(report);
    expect(presentedTokens.length).toBeGreaterThan(0);
    expect(new Set(presentedTokens)).toEqual(new Set([`Bearer ${fhirAuthorization.access_token}`]));
  });

  it('gives no card from the fallback when the FHIR server refuses the hook\'s access token', async () => {
    const { patientId } = await patientWithReport();
    const prefetch = { ...(await prefetchFor(patientId)), analysisReports: failedPrefetch };
    presentedTokens.length = 0;
    const response = await patientView({ context: { patientId }, fhirServer: guardedUrl, fhirAuthorization: { ...fhirAuthorization, access_token: 'a-token-the-ehr-never-issued' }, prefetch });
    expect(presentedTokens).toContain('Bearer a-token-the-ehr-never-issued');
    expect(response.status).toBe(412);
    expect(response.body).toMatchObject({ code: 'prefetch-unavailable', reason: expect.stringContaining('could not be fetched from the FHIR server') });
  });

  it('answers 412 saying the client\'s prefetch failed when there is no FHIR server to ask', async () => {
    const { patientId } = await patientWithReport();
    const response = await patientView({ context: { patientId }, prefetch: { ...(await prefetchFor(patientId)), kneeStudies: failedPrefetch } });
    expect(response.status).toBe(412);
    expect(response.body.reason).toMatch(/prefetch kneeStudies failed at the CDS client \(OperationOutcome\) and no fhirServer with fhirAuthorization was given/);
  });
});

describe('malformed hook bodies', () => {
  const study = { resourceType: 'ImagingStudy', id: 's1', status: 'available', subject: { reference: 'Patient/p1' } };
  const bundleOf = (...resources: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  it.each([
    ['a subject that is a string', { kneeStudies: bundleOf({ ...study, subject: 'Patient/p1' }), analysisReports: null }, 'prefetch.kneeStudies.entry.0.resource.subject'],
    ['identifiers that are not a list', { kneeStudies: bundleOf({ ...study, identifier: { system: 'urn:dicom:uid' } }), analysisReports: null }, 'prefetch.kneeStudies.entry.0.resource.identifier'],
    ['a report without its code', { kneeStudies: null, analysisReports: bundleOf({ resourceType: 'DiagnosticReport', id: 'r1', status: 'final', subject: { reference: 'Patient/p1' } }) }, 'prefetch.analysisReports.entry.0.resource.code'],
    ['Observation components that are not objects', { kneeStudies: null, analysisReports: bundleOf({ resourceType: 'Observation', id: 'o1', code: {}, component: [3] }) }, 'prefetch.analysisReports.entry.0.resource.component.0'],
    ['Bundle entries that are not a list', { kneeStudies: { resourceType: 'Bundle', entry: {} }, analysisReports: null }, 'prefetch.kneeStudies.entry'],
    ['a resource without an id', { kneeStudies: bundleOf({ resourceType: 'ImagingStudy', status: 'available' }), analysisReports: null }, 'prefetch.kneeStudies.entry.0.resource.id'],
  ])('answers 400 naming the field for %s', async (_what, prefetch, path) => {
    const response = await patientView({ context: { patientId: 'p1' }, prefetch });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('bad-request');
    expect(response.body.reason).toContain(`${path}:`);
  });

  it('answers 400 naming the field for a draft order whose code is not a CodeableConcept', async () => {
    const id = 'knee-tumor-order-select';
    const token = await ehr.token(`${SERVICE_BASE}/cds-services/${id}`);
    const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'ServiceRequest', id: 'o1', status: 'draft', intent: 'order', code: { coding: 'XR knee' } } }] };
    const response = await request(service.app)
      .post(`/cds-services/${id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({ hook: 'order-select', hookInstance: randomUUID(), context: { patientId: 'p1', selections: ['ServiceRequest/o1'], draftOrders }, prefetch: { kneeStudies: null, analysisReports: null } });
    expect(response.status).toBe(400);
    expect(response.body.reason).toContain('context.draftOrders.entry.0.resource.code.coding:');
  });

  it('answers 400 naming the field for a fhirAuthorization without its access token', async () => {
    const response = await patientView({ context: { patientId: 'p1' }, fhirServer: fhir.baseUrl, fhirAuthorization: { ...fhirAuthorization, access_token: undefined } });
    expect(response.status).toBe(400);
    expect(response.body.reason).toContain('fhirAuthorization.access_token:');
  });
});
