/**
 * The HTTP edge over real HTTP: security headers, CORS only on the CDS routes, no caching of
 * answers about patients, route-specific body limits (413), 415 for bodies that are not JSON,
 * authentication from the header before the body is read, and a generated corpus of malformed
 * hook bodies and FHIR Subscription notifications that must all be refused with 4xx (the path of
 * the bad field named), never 500.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { silentLog } from '../../server/src/log';
import { createService, type KneeTumorService } from '../../server/src/service';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { SERVICE_BASE, TEST_MODEL, TRIGGER_TOKEN, testConfig } from '../support/service-config';

let fhir: RunningFhirServer;
let ehr: TestCdsClient;
let service: KneeTumorService;

const PATIENT_VIEW = 'knee-tumor-patient-view';
const ORDER_SELECT = 'knee-tumor-order-select';

beforeAll(async () => {
  fhir = await startFhirServer();
  ehr = await createTestCdsClient();
  const config = testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks }], {
    // A viewer is configured so that /app-api exists (its token check is never reached here).
    pacs: { dicomWebUrl: 'http://127.0.0.1:9/dicom-web', timeoutMs: 500 },
    smart: { issuer: 'http://127.0.0.1:9/auth', jwksUrl: 'http://127.0.0.1:9/auth/jwks', fhirBaseUrl: 'http://127.0.0.1:9/fhir' },
  });
  service = createService(config, () => Promise.reject(new Error('not used')), TEST_MODEL, silentLog);
});
afterAll(async () => {
  await service.stop();
  await fhir.stop();
});

const bearer = async (id: string) => `Bearer ${await ehr.token(`${SERVICE_BASE}/cds-services/${id}`)}`;
const coding = { system: 'http://loinc.org', code: '18748-4', display: 'Diagnostic imaging study' };

/** A hook body whose every field the service reads is present, with complete prefetch (no FHIR query). */
function patientViewBody(): Record<string, unknown> {
  const study = { resourceType: 'ImagingStudy', id: 's1', subject: { reference: 'Patient/p1' }, started: '2026-11-20T10:00:00Z', identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' }] };
  const report = {
    resourceType: 'DiagnosticReport',
    id: 'r1',
    status: 'final',
    code: { coding: [coding], text: 'Knee radiograph' },
    subject: { reference: 'Patient/p1' },
    identifier: [{ system: 'urn:example:other', value: 'v1' }],
    issued: '2026-11-20T11:00:00Z',
    effectiveDateTime: '2026-11-20T10:00:00Z',
    imagingStudy: [{ reference: 'ImagingStudy/s1' }],
    result: [{ reference: 'Observation/o1' }],
    conclusion: 'none',
    conclusionCode: [{ coding: [coding] }],
    extension: [{ url: 'urn:example:extension', valueCode: 'x' }],
  };
  const observation = {
    resourceType: 'Observation',
    id: 'o1',
    code: { coding: [coding] },
    subject: { reference: 'Patient/p1' },
    valueQuantity: { value: 1 },
    interpretation: [{ text: 'x' }],
    component: [{ code: { text: 'c' }, valueQuantity: { value: 2 }, valueString: 's', valueRatio: { numerator: { value: 1 }, denominator: { value: 2 } } }],
  };
  const bundle = (resources: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  return {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { patientId: 'p1', userId: 'Practitioner/1' },
    prefetch: { kneeStudies: bundle([study]), analysisReports: bundle([report, observation]) },
  };
}

function orderSelectBody(): Record<string, unknown> {
  const order = { resourceType: 'ServiceRequest', id: 'o1', code: { coding: [{ system: 'http://loinc.org', code: '24806-2' }] }, subject: { reference: 'Patient/p1' } };
  const base = patientViewBody();
  return { ...base, hook: 'order-select', context: { patientId: 'p1', selections: ['ServiceRequest/o1'], draftOrders: { resourceType: 'Bundle', entry: [{ resource: order }] } } };
}

function notificationBody(): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'history',
    entry: [
      { resource: { resourceType: 'ImagingStudy', id: 's1', status: 'available', identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:1.2.826.0.1.3680043.8.498.77' }] } },
      { resource: { resourceType: 'ServiceRequest', id: 'sr1', status: 'completed' } },
    ],
  };
}

type Path = Array<string | number>;

/** Every path below the root of a JSON value. */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const children = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return children.flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
}

/** Values of another JSON type than `original`: each must be refused where `original` is read. */
function wrongTypes(original: unknown): unknown[] {
  if (typeof original === 'string') return [42, true, null, [], {}];
  if (typeof original === 'number') return ['1', null, [], {}];
  if (Array.isArray(original)) return ['x', 1, null, {}];
  return ['x', 1, null, []];
}

function withValue(body: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = value;
  return copy;
}

interface Malformed {
  name: string;
  body: Record<string, unknown>;
  /** The field the refusal must name. */
  field: string;
}

/** The corpus: every field of `body` replaced by each value of another type (a prefetch key may be null: "nothing found"). */
function corpus(body: Record<string, unknown>): Malformed[] {
  return paths(body).flatMap((path) => {
    const original = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], body);
    return wrongTypes(original)
      .filter((value) => !(value === null && path.length === 2 && path[0] === 'prefetch'))
      .map((value) => ({ name: `${path.join('.')} = ${JSON.stringify(value)}`, body: withValue(body, path, value), field: path.join('.') }));
  });
}

describe('security headers and CORS', () => {
  it('sends helmet\'s headers with a CSP for the app, and no-store on hook answers', async () => {
    const response = await request(service.app).get('/cds-services').set('Origin', 'https://ehr.example.org').expect(200);
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(response.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
    expect(response.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const hook = await request(service.app).post(`/cds-services/${PATIENT_VIEW}`).set('Authorization', await bearer(PATIENT_VIEW)).send(patientViewBody()).expect(200);
    expect(hook.headers['cache-control']).toBe('no-store');
  });

  it('answers a CDS preflight, but grants no CORS on /triggers or /app-api', async () => {
    const preflight = await request(service.app)
      .options(`/cds-services/${PATIENT_VIEW}`)
      .set('Origin', 'https://ehr.example.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    for (const [method, path] of [
      ['post', '/triggers/studies'],
      ['options', '/triggers/studies'],
      ['get', '/app-api/studies/1.2.3/analysis'],
      ['options', '/app-api/feedback'],
    ] as const) {
      const response = await request(service.app)[method](path).set('Origin', 'https://evil.example.org').set('Access-Control-Request-Method', 'POST');
      expect([method, path, response.headers['access-control-allow-origin']]).toEqual([method, path, undefined]);
    }
    const api = await request(service.app).get('/app-api/studies/1.2.3/analysis');
    expect(api.headers['cache-control']).toBe('no-store');
  });
});

describe('request bodies', () => {
  it('refuses a hook body over 5 MB with 413, and feedback over 64 kB', async () => {
    const big = { ...patientViewBody(), padding: 'x'.repeat(5 * 1024 * 1024 + 1) };
    const hook = await request(service.app).post(`/cds-services/${PATIENT_VIEW}`).set('Authorization', await bearer(PATIENT_VIEW)).send(big);
    expect([hook.status, hook.body.code]).toEqual([413, 'payload-too-large']);
    const feedback = await request(service.app)
      .post(`/cds-services/${PATIENT_VIEW}/feedback`)
      .set('Authorization', await bearer(PATIENT_VIEW))
      .send({ feedback: [], padding: 'x'.repeat(70 * 1024) });
    expect([feedback.status, feedback.body.code]).toEqual([413, 'payload-too-large']);
  });

  it('refuses a trigger over 16 kB with 413 and a notification that is not JSON with 415', async () => {
    const trigger = await request(service.app).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: '1.2.3', padding: 'x'.repeat(17 * 1024) });
    expect([trigger.status, trigger.body.code]).toEqual([413, 'payload-too-large']);
    const xml = await request(service.app).post('/triggers/fhir-subscription').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).set('Content-Type', 'application/fhir+xml').send('<Bundle/>');
    expect([xml.status, xml.body.code]).toEqual([415, 'unsupported-media-type']);
  });

  it('checks the token before reading the body: an unauthenticated 5 MB body (hook, CDS feedback, viewer feedback) is refused with 401 after its first bytes', async () => {
    const server = service.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const path of [`/cds-services/${PATIENT_VIEW}`, `/cds-services/${PATIENT_VIEW}/feedback`, '/app-api/feedback']) {
        // Only 64 kB of the announced 5 MB are ever sent: an answer proves the rest was not awaited, let alone parsed.
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'Content-Type': 'application/json', 'Content-Length': 5 * 1024 * 1024 } });
          req.on('response', (res) => {
            resolve(res.statusCode ?? 0);
            req.destroy();
          });
          req.on('error', reject);
          req.write(`{"hook":"patient-view","padding":"${'x'.repeat(64 * 1024)}`);
        });
        expect([path, status]).toEqual([path, 401]);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('a corpus of malformed bodies', () => {
  const hookCorpus = [...corpus(patientViewBody()).map((m) => ({ ...m, id: PATIENT_VIEW })), ...corpus(orderSelectBody()).map((m) => ({ ...m, id: ORDER_SELECT }))];
  const notificationCorpus = corpus(notificationBody());

  it('starts from bodies the service accepts', async () => {
    await request(service.app).post(`/cds-services/${PATIENT_VIEW}`).set('Authorization', await bearer(PATIENT_VIEW)).send(patientViewBody()).expect(200);
    await request(service.app).post(`/cds-services/${ORDER_SELECT}`).set('Authorization', await bearer(ORDER_SELECT)).send(orderSelectBody()).expect(200);
    await request(service.app).post('/triggers/fhir-subscription').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).set('Content-Type', 'application/fhir+json').send(notificationBody()).expect(202);
    expect(hookCorpus.length + notificationCorpus.length).toBeGreaterThanOrEqual(100);
  });

  it('refuses every hook body with a field of the wrong type with 400, naming the field', async () => {
    const answers: string[] = [];
    for (const malformed of hookCorpus) {
      const response = await request(service.app).post(`/cds-services/${malformed.id}`).set('Authorization', await bearer(malformed.id)).send(malformed.body);
      const named = String(response.body.reason ?? '').includes(malformed.field);
      if (response.status !== 400 || !named) answers.push(`${malformed.id} ${malformed.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    expect(answers).toEqual([]);
  });

  it('refuses every notification with a field of the wrong type with 400, naming the field', async () => {
    const answers: string[] = [];
    for (const malformed of notificationCorpus) {
      const response = await request(service.app).post('/triggers/fhir-subscription').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).set('Content-Type', 'application/fhir+json').send(malformed.body);
      const named = String(response.body.reason ?? '').includes(malformed.field);
      if (response.status !== 400 || !named) answers.push(`${malformed.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    expect(answers).toEqual([]);
  });

  it('refuses bodies that are not a JSON object, not JSON or huge with 4xx', async () => {
    const raw: Array<[string, string, string]> = [
      ['application/json', '[]', 'an array'],
      ['application/json', '"patient-view"', 'a string'],
      ['application/json', 'null', 'null'],
      ['application/json', '42', 'a number'],
      ['application/json', '{"hook": "patient-view",', 'cut short'],
      ['application/json', '', 'empty'],
      ['text/plain', JSON.stringify(patientViewBody()), 'text/plain'],
      ['application/xml', '<hook/>', 'XML'],
      ['application/x-www-form-urlencoded', 'hook=patient-view', 'a form'],
      ['application/json', JSON.stringify({ ...patientViewBody(), hookInstance: 'x'.repeat(6 * 1024 * 1024) }), 'a huge string'],
      ['application/json', JSON.stringify({ ...patientViewBody(), prefetch: { kneeStudies: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'ImagingStudy' } }] } }] } } }), 'a nested bundle holding a study without id'],
    ];
    const statuses: Array<[string, number]> = [];
    for (const [type, body, what] of raw) {
      const response = await request(service.app).post(`/cds-services/${PATIENT_VIEW}`).set('Authorization', await bearer(PATIENT_VIEW)).set('Content-Type', type).send(body);
      statuses.push([what, response.status]);
    }
    expect(statuses.filter(([, status]) => status < 400 || status >= 500)).toEqual([]);
    expect(Object.fromEntries(statuses)).toMatchObject({ 'text/plain': 415, XML: 415, 'a huge string': 413, 'cut short': 400 });
  });
});
