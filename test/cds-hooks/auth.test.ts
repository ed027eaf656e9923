/**
 * CDS client authentication and malformed calls over real HTTP: each bad token and each bad body
 * gets its refusal. The JWKS URL variant is served by a real HTTP server; key sets that cannot be
 * read (server down, 5xx, not a key set) are served by recording servers, as is a `jku` that a
 * static-key issuer's tokens name and that must never be fetched.
 */
import type { Server } from 'node:http';
import { createHmac, randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createService, type KneeTumorService } from '../../server/src/service';
import { silentLog } from '../../server/src/log';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { listenOnLoopback } from '../support/loopback';
import { startRecordingServer, type RecordingServer } from '../support/recording-server';
import { SERVICE_BASE, TEST_MODEL, testConfig } from '../support/service-config';

const id = 'knee-tumor-patient-view';
const audience = `${SERVICE_BASE}/cds-services/${id}`;
const body = () => ({ hook: 'patient-view', hookInstance: randomUUID(), context: { patientId: 'p1' }, prefetch: { kneeStudies: null, analysisReports: null } });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let fhir: RunningFhirServer;
let ehr: TestCdsClient;
let remoteEhr: TestCdsClient;
let stranger: TestCdsClient;
let jwksServer: Server;
let jwksUrl: string;
let service: KneeTumorService;
/** Where static-key tokens point their jku: it must see no request. */
let jkuTarget: RecordingServer;
/** JWKS servers that are down, failing, or answer something that is not a key set. */
let brokenKeys: Record<'down' | 'failing' | 'notAKeySet', { server: RecordingServer; client: TestCdsClient }>;

beforeAll(async () => {
  fhir = await startFhirServer();
  [ehr, remoteEhr] = await Promise.all([createTestCdsClient(), createTestCdsClient('https://remote-ehr.example.org')]);
  stranger = await createTestCdsClient(ehr.issuer, ehr.kid);
  const keys = await listenOnLoopback(
    express().get('/jwks.json', (_req, res) => {
      res.json(remoteEhr.jwks);
    }),
  );
  jwksServer = keys.server;
  jwksUrl = `${keys.origin}/jwks.json`;
  jkuTarget = await startRecordingServer((_req, res) => void res.json(stranger.jwks));
  const [down, failing, notAKeySet] = await Promise.all([
    startRecordingServer(),
    startRecordingServer((_req, res) => void res.status(502).type('html').send('<html><body>502 Bad Gateway</body></html>')),
    startRecordingServer((_req, res) => void res.json({ issuer: 'https://keys.example.org' })),
  ]);
  await down.stop();
  brokenKeys = {
    down: { server: down, client: await createTestCdsClient('https://down-ehr.example.org') },
    failing: { server: failing, client: await createTestCdsClient('https://failing-ehr.example.org') },
    notAKeySet: { server: notAKeySet, client: await createTestCdsClient('https://odd-ehr.example.org') },
  };
  service = createService(
    testConfig(fhir.baseUrl, [
      { issuer: ehr.issuer, jwks: ehr.jwks },
      { issuer: remoteEhr.issuer, jwksUrl },
      ...Object.values(brokenKeys).map(({ server, client }) => ({ issuer: client.issuer, jwksUrl: `${server.origin}/jwks.json` })),
    ]),
    () => Promise.reject(new Error('not used')),
    TEST_MODEL,
    silentLog,
  );
});
afterAll(async () => {
  await service.stop();
  await fhir.stop();
  await new Promise((r) => jwksServer.close(r));
  await Promise.all([jkuTarget.stop(), ...Object.values(brokenKeys).map((b) => b.server.stop())]);
});

const call = (token: string | undefined, payload: unknown = body()) => {
  const req = request(service.app).post(`/cds-services/${id}`);
  return (token ? req.set('Authorization', `Bearer ${token}`) : req).send(payload as object);
};

describe('CDS client JWT', () => {
  it('accepts a token from a static key set and from a JWKS URL', async () => {
    expect((await call(await ehr.token(audience))).status).toBe(200);
    expect((await call(await remoteEhr.token(audience))).status).toBe(200);
  });

  it('accepts a static-key issuer\'s token that carries a jku, and never fetches the jku', async () => {
    expect((await call(await ehr.token(audience, { jku: `${jkuTarget.origin}/jwks.json` }))).status).toBe(200);
    expect(jkuTarget.requests).toEqual([]);
  });

  it('accepts a JWKS URL issuer\'s token whose jku is the configured URL', async () => {
    expect((await call(await remoteEhr.token(audience, { jku: jwksUrl }))).status).toBe(200);
  });

  it.each(['down', 'failing', 'notAKeySet'] as const)('answers 503 naming the issuer\'s key set when its JWKS server is %s', async (which) => {
    const { server, client } = brokenKeys[which];
    const response = await call(await client.token(audience));
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('cds-client-keys-unavailable');
    expect(response.body.reason).toContain(`the key set of CDS client ${client.issuer} is unavailable: ${server.origin}/jwks.json`);
  });

  it.each([
    ['no token', async () => undefined, /bearer JWT is required/],
    ['a static-key token whose kid is not in the set', async () => (await createTestCdsClient(ehr.issuer)).token(audience), /kid .* is not in the key set configured for/],
    ['a token that is not a JWT', async () => 'not-a-jwt', /not a JWT/],
    ['an expired token', async () => ehr.token(audience, { expiresInSeconds: -60 }), /expired/],
    ['a token issued too long ago', async () => ehr.token(audience, { issuedAt: Math.floor(Date.now() / 1000) - 3600, expiresInSeconds: 600 }), /iat/],
    ['a token for another service', async () => ehr.token(`${SERVICE_BASE}/cds-services/other`), /aud/],
    ['a token signed with another key', async () => stranger.token(audience), /signature/],
    ['an issuer not on the allow-list', async () => ehr.token(audience, { issuer: 'https://evil.example.org' }), /issuer is not an allowed/],
    ['a jku other than the configured JWKS URL', async () => remoteEhr.token(audience, { jku: 'https://evil.example.org/jwks.json' }), /jku/],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ehr.issuer, aud: audience, exp: Date.now() / 1000 + 300, iat: Date.now() / 1000, jti: randomUUID() })}.`, /algorithm none/],
    [
      'HMAC (HS256) signed with the public key as a secret',
      async () => {
        const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: ehr.issuer, aud: audience, exp: Math.floor(Date.now() / 1000) + 300, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}`;
        return `${unsigned}.${createHmac('sha256', JSON.stringify(ehr.jwks)).update(unsigned).digest('base64url')}`;
      },
      /algorithm HS256/,
    ],
  ])('refuses %s with 401', async (_what, token, reason) => {
    const response = await call(await token());
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('unauthorized');
    expect(response.body.reason).toMatch(reason);
  });

  it('refuses a replayed token (same jti)', async () => {
    const token = await ehr.token(audience);
    expect((await call(token)).status).toBe(200);
    const replay = await call(token);
    expect(replay.status).toBe(401);
    expect(replay.body.reason).toMatch(/jti replay/);
  });
});

describe('malformed hook calls', () => {
  it.each([
    ['a body that is not JSON', '{"hook":', /not valid JSON/],
    ['a body without context.patientId', { hook: 'patient-view', hookInstance: 'x', context: {} }, /context.patientId/],
    ['the wrong hook for the service', { ...body(), hook: 'order-sign' }, /answers patient-view, not order-sign/],
    ['a prefetch value that is not a resource', { ...body(), prefetch: { kneeStudies: 'nope' } }, /prefetch/],
  ])('answers 400 to %s', async (_what, payload, reason) => {
    const token = await ehr.token(audience);
    const req = request(service.app).post(`/cds-services/${id}`).set('Authorization', `Bearer ${token}`);
    const response = typeof payload === 'string' ? await req.set('Content-Type', 'application/json').send(payload) : await req.send(payload);
    expect(response.status).toBe(400);
    expect(response.body.reason).toMatch(reason);
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.ts/);
  });

  it('answers 404 to an unknown service id', async () => {
    expect((await request(service.app).post('/cds-services/unknown').send(body())).status).toBe(404);
  });
});
