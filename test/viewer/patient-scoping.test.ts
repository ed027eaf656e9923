/**
 * The viewer's patient scoping (server/src/viewer/router.ts): whatever the token check, /app-api
 * serves only the launch patient's studies and reports. The FHIR engine, the job store and the
 * feedback store are real; the token check stands in for a valid token of a patient (the token
 * modes are tested in test/app/smart-token-modes.test.ts), and the PACS records what it is asked,
 * so that a refusal is seen to fetch no image. Then each token mode for real, behind an EHR whose
 * FHIR server enforces no patient scope and ignores `patient=`.
 */
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import express from 'express';
import request from 'supertest';
import type { ImagingStudy } from 'fhir/r4';
import { createFhirClient } from '../../server/src/fhir/client';
import { writeReport } from '../../server/src/results/fhir/write-report';
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import type { FeedbackStore } from '../../server/src/jobs/feedback-store';
import { createFeedbackStore } from '../../server/src/jobs/sqlite/feedback-store';
import type { JobStore } from '../../server/src/jobs/store';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';
import type { LogFields } from '../../server/src/log';
import { createViewerRouter } from '../../server/src/viewer/router';
import { KneeTumorError } from '../../server/src/errors';
import { sampleAnalysis } from '../support/analysis-fixture';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { parseConfig } from '../../server/src/config';
import { createFhirEngine } from '../../server/src/fhir/memory-engine';
import { errorMiddleware } from '../../server/src/http';
import { createSmartAuthenticator } from '../../server/src/viewer/smart-auth';
import { serveOnLoopback, type LoopbackServer } from '../support/loopback-proxy';
import { APP_CLIENT_ID, APP_SCOPE, INTROSPECTION_CLIENT, launchTokens, startSmartEhr, type SmartEhr } from '../support/smart-ehr';

let fhir: RunningFhirServer;
let app: express.Express;
let jobs: JobStore;
let feedback: FeedbackStore;
const pacsCalls: string[] = [];
const audit: { event: string; fields?: LogFields }[] = [];
/** Token → launch patient; any other token is refused, as an expired one. */
const tokens = new Map<string, string>();

let mine: { uid: string; patientId: string; report: string };
let theirs: { uid: string; patientId: string; report: string };

async function studyWithReport(n: number) {
  const uid = `1.2.826.0.1.3680043.8.498.7${n}${Math.floor(Math.random() * 1e6)}`;
  const { patientId } = await registerStudy(fhir, uid);
  const { report } = await writeReport(createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }), sampleAnalysis({ studyInstanceUid: uid, positive: true }));
  return { uid, patientId, report };
}

beforeAll(async () => {
  fhir = await startFhirServer();
  const db = openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), 'scoping-')), 'jobs.sqlite'));
  jobs = createJobStore(db, 'knee-tumor@1.0.0');
  feedback = createFeedbackStore(db, 'knee-tumor@1.0.0');
  mine = await studyWithReport(1);
  theirs = await studyWithReport(2);
  tokens.set('mine', `Patient/${mine.patientId}`);
  app = express();
  app.use(
    createViewerRouter({
      authenticate: async ({ token }) => {
        const patient = token ? tokens.get(token) : undefined;
        if (!patient) throw new KneeTumorError('session-expired', 'the access token is not valid');
        return { issuer: 'https://ehr.example.org/fhir', patient, user: 'Practitioner/dr-1' };
      },
      appSettings: { clientId: 'knee-tumor-viewer', scope: 'launch', allowedIssuers: [] },
      pacs: {
        seriesOfInstance: async (study, sop) => {
          pacsCalls.push(`series ${study} ${sop}`);
          return '1.2.3.4';
        },
        retrieveRendered: async (instance) => {
          pacsCalls.push(`rendered ${instance.sopInstanceUid}`);
          return new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
        },
      },
      fhir: createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }),
      jobs,
      feedback,
      clientDir: mkdtempSync(path.join(os.tmpdir(), 'client-')),
      log: () => undefined,
      audit: (event, fields) => void audit.push({ event, fields }),
    }),
  );
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const known = error instanceof KneeTumorError ? error : undefined;
    res.status(known?.httpStatus ?? 500).json({ code: known?.code ?? 'internal' });
  });
}, 60000);
afterAll(() => fhir.stop());

beforeEach(() => {
  pacsCalls.length = 0;
  audit.length = 0;
});

const as = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('images', () => {
  it('serves the launch patient\'s image (the set-up works)', async () => {
    await request(app).get(`/app-api/studies/${mine.uid}/instances/1.2.3.5/rendered`).set(as('mine')).expect(200);
    expect(pacsCalls).toEqual([`series ${mine.uid} 1.2.3.5`, 'rendered 1.2.3.5']);
    expect(audit.map((a) => a.event)).toEqual(['image-viewed']);
  });

  it('refuses another patient\'s image with 403 patient-mismatch, asks the PACS nothing and audits the refusal', async () => {
    const response = await request(app).get(`/app-api/studies/${theirs.uid}/instances/1.2.3.5/rendered`).set(as('mine'));
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('patient-mismatch');
    expect(pacsCalls).toEqual([]);
    expect(audit).toEqual([{ event: 'access-refused', fields: expect.objectContaining({ code: 'patient-mismatch', reason: 'other-patient', what: 'study', study: theirs.uid }) }]);
  });

  it('refuses a study the FHIR server does not have (not-in-fhir): the PACS alone never grants access', async () => {
    const unknown = '1.2.826.0.1.3680043.8.498.999999';
    const response = await request(app).get(`/app-api/studies/${unknown}/instances/1.2.3.5/rendered`).set(as('mine'));
    expect(response.status).toBe(403);
    expect(pacsCalls).toEqual([]);
    expect(audit[0]?.fields).toMatchObject({ reason: 'not-in-fhir' });
  });

  it('refuses a study whose ImagingStudy names no patient', async () => {
    const uid = '1.2.826.0.1.3680043.8.498.888888';
    await fhir.create<ImagingStudy>({ resourceType: 'ImagingStudy', status: 'available', subject: { display: 'unknown' }, identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uid}` }] });
    const response = await request(app).get(`/app-api/studies/${uid}/instances/1.2.3.5/rendered`).set(as('mine'));
    expect(response.status).toBe(403);
    expect(pacsCalls).toEqual([]);
  });

  it('refuses without a valid token before looking at the study', async () => {
    const response = await request(app).get(`/app-api/studies/${mine.uid}/instances/1.2.3.5/rendered`).set(as('forged'));
    expect(response.status).toBe(401);
    expect(pacsCalls).toEqual([]);
    expect(audit.map((a) => a.event)).toEqual(['token-refused']);
  });
});

describe('analysis state', () => {
  it('tells the launch patient\'s job state, and refuses another patient\'s even when its job exists', async () => {
    await jobs.enqueue(mine.uid, 'http');
    await jobs.enqueue(theirs.uid, 'http');
    const own = await request(app).get(`/app-api/studies/${mine.uid}/analysis`).set(as('mine')).expect(200);
    expect(own.body.state).toBe('queued');
    const other = await request(app).get(`/app-api/studies/${theirs.uid}/analysis`).set(as('mine'));
    expect(other.status).toBe(403);
    expect(other.body).toEqual({ code: 'patient-mismatch' });
  });
});

describe('feedback', () => {
  it('stores feedback on the launch patient\'s report, refuses it on another patient\'s and stores nothing', async () => {
    const before = (await feedback.all()).length;
    await request(app).post('/app-api/feedback').set(as('mine')).send({ diagnosticReport: mine.report, outcome: 'accepted' }).expect(200);
    expect(await feedback.all()).toHaveLength(before + 1);
    const refused = await request(app).post('/app-api/feedback').set(as('mine')).send({ diagnosticReport: theirs.report, outcome: 'overridden', overrideReason: 'disagree' });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('patient-mismatch');
    expect(await feedback.all()).toHaveLength(before + 1);
    expect(audit.map((a) => [a.event, a.fields?.what])).toEqual([['feedback', undefined], ['access-refused', 'report']]);
  });

  it('refuses feedback on a report that does not exist', async () => {
    const response = await request(app).post('/app-api/feedback').set(as('mine')).send({ diagnosticReport: 'DiagnosticReport/does-not-exist', outcome: 'accepted' });
    expect(response.status).toBe(403);
  });
});

/**
 * The token modes themselves, each behind an EHR whose FHIR server enforces no patient scope and
 * ignores `patient=` (the SMART launcher's kind): a token issued for Mia reaches none of Olav's
 * studies, whatever header the request adds; in `fhir` mode the patient is the one the EHR named
 * in the token response our broker forwarded, and a token that did not pass the broker is refused.
 */
describe.each(['jwt', 'introspection', 'fhir'] as const)('%s mode, behind a FHIR server that enforces no patient scope', (mode) => {
  const engine = createFhirEngine();
  let ehr: SmartEhr;
  let server: LoopbackServer;
  let base: string;
  let mia: { uid: string; patientId: string };
  let olav: { uid: string; patientId: string };
  const rendered: string[] = [];

  beforeAll(async () => {
    ehr = await startSmartEhr(engine, mode === 'jwt' ? 'jwt' : 'opaque', { patientScope: false });
    const system = createFhirClient({ baseUrl: ehr.systemFhirUrl, timeoutMs: 3000 });
    const patientWithStudy = async () => {
      const uid = `1.2.826.0.1.3680043.8.498.6${Math.floor(Math.random() * 1e9)}`;
      const { patientId } = await registerStudy(engine, uid);
      await writeReport(system, sampleAnalysis({ studyInstanceUid: uid, positive: true }));
      return { uid, patientId };
    };
    mia = await patientWithStudy();
    olav = await patientWithStudy();
    const tokenValidation =
      mode === 'jwt'
        ? { mode, issuer: ehr.issuer, jwksUrl: `${ehr.issuer}/jwks` }
        : mode === 'introspection'
          ? { mode, introspectionUrl: ehr.introspectionUrl, ...INTROSPECTION_CLIENT }
          : { mode };
    const smart = parseConfig({ smart: { fhirBaseUrl: ehr.fhirBaseUrl, tokenValidation } }).smart!;
    const db = openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), 'modes-')), 'jobs.sqlite'));
    const viewer = express();
    viewer.use(
      createViewerRouter({
        ...createSmartAuthenticator(smart),
        appSettings: { clientId: APP_CLIENT_ID, scope: APP_SCOPE, allowedIssuers: [ehr.fhirBaseUrl] },
        pacs: {
          seriesOfInstance: async () => '1.2.3.4',
          retrieveRendered: async (instance) => {
            rendered.push(instance.studyInstanceUid);
            return new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
          },
        },
        fhir: system,
        jobs: createJobStore(db, 'knee-tumor@1.0.0'),
        feedback: createFeedbackStore(db, 'knee-tumor@1.0.0'),
        clientDir: mkdtempSync(path.join(os.tmpdir(), 'client-')),
        log: () => undefined,
        audit: () => undefined,
      }),
    );
    viewer.use(errorMiddleware(() => undefined));
    server = await serveOnLoopback(async (request, response) => void viewer(request as express.Request, response as express.Response));
    base = `http://127.0.0.1:${server.port}`;
  }, 60000);
  afterAll(async () => {
    await server.stop();
    await ehr.stop();
  });
  beforeEach(() => void (rendered.length = 0));

  /** Mia's launch, the code exchanged as the app does in this mode (through the broker in `fhir` mode). */
  const miasToken = async () => (await launchTokens(ehr, mia.patientId, mode === 'fhir' ? `${base}/app-api/token` : undefined)).access_token;
  const image = (study: string, token: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/app-api/studies/${study}/instances/1.2.3.5/rendered`, { headers: { Authorization: `Bearer ${token}`, ...headers } });

  it('serves Mia\'s token her own study, and none of Olav\'s whatever patient the request names', async () => {
    const token = await miasToken();
    expect((await image(mia.uid, token)).status).toBe(200);
    for (const headers of [{} as Record<string, string>, { 'X-Launch-Patient': olav.patientId }, { 'X-Launch-Patient': `Patient/${olav.patientId}` }]) {
      const answer = await image(olav.uid, token, headers);
      expect(answer.status).toBe(403);
      expect(await answer.json()).toMatchObject({ code: 'patient-mismatch' });
    }
    expect(rendered).toEqual([mia.uid]);
  });

  if (mode !== 'fhir') return;

  it('tells the app to send its token requests to the broker, which answers with the EHR\'s own token response', async () => {
    expect(await (await fetch(`${base}/app/config.json`)).json()).toMatchObject({ tokenBroker: '/app-api/token' });
    const tokens = await launchTokens(ehr, mia.patientId, `${base}/app-api/token`);
    expect(tokens).toMatchObject({ access_token: expect.any(String), patient: mia.patientId, token_type: 'Bearer' });
  });

  it('refuses a token the EHR issued without the broker: the service never learnt its patient', async () => {
    const direct = await launchTokens(ehr, mia.patientId);
    const answer = await image(mia.uid, direct.access_token, { 'X-Launch-Patient': mia.patientId });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ code: 'session-expired', reason: expect.stringContaining('/app-api/token') });
    expect(rendered).toEqual([]);
  });
});
