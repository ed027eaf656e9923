/**
 * SMART Backend Services against real components: oauth2-mock-server as the EHR's authorization
 * server (it verifies each client assertion against the public key registered for the client) and
 * the FHIR engine behind a gateway that accepts only its tokens. The service writes a report with
 * a backend-services token found through the SMART configuration; tokens are renewed before they
 * expire and after the FHIR server refuses one; many concurrent requests share one token request;
 * a refused client or a wrong key fails at once, a token endpoint that is down is worth retrying.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiagnosticReport, ImagingStudy } from 'fhir/r4';
import request from 'supertest';
import { parseConfig, type Config } from '../../server/src/config';
import { createFhirClient } from '../../server/src/fhir/client';
import { KneeTumorError } from '../../server/src/errors';
import { sampleAnalysis } from '../support/analysis-fixture';
import { startBearerGuard, type BearerGuard } from '../support/bearer-guard';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { startService, waitFor } from '../support/running-service';
import { testConfig, TRIGGER_TOKEN } from '../support/service-config';
import { startTokenServer, type TokenServer } from '../support/token-server';

const FHIR_AUDIENCE = 'https://ehr.example.org/fhir';
const SCOPE = 'system/ImagingStudy.rs system/ServiceRequest.rs system/DiagnosticReport.crs system/Observation.crs system/Device.crs system/Provenance.c';

const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherEcKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const keyDir = mkdtempSync(path.join(os.tmpdir(), 'backend-keys-'));
const ecKeyPath = path.join(keyDir, 'knee-ai-es384.pem');
writeFileSync(ecKeyPath, ecKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));

const publicJwk = (key: KeyObject) => key.export({ format: 'jwk' }) as Record<string, unknown>;

let tokens: TokenServer;
let fhir: RunningFhirServer;
let guard: BearerGuard;

beforeAll(async () => {
  tokens = await startTokenServer([
    { clientId: 'knee-ai-es384', audience: FHIR_AUDIENCE, alg: 'ES384', kid: 'es-1', publicJwk: publicJwk(ecKey.publicKey) },
    { clientId: 'knee-ai-rs384', audience: FHIR_AUDIENCE, alg: 'RS384', kid: 'rs-1', publicJwk: publicJwk(rsaKey.publicKey) },
    // Registered with another key than the one the service signs with.
    { clientId: 'knee-ai-wrong-key', audience: FHIR_AUDIENCE, alg: 'ES384', kid: 'es-1', publicJwk: publicJwk(otherEcKey.publicKey) },
  ]);
  fhir = await startFhirServer();
  guard = await startBearerGuard(fhir.baseUrl, {
    issuer: tokens.issuer,
    jwksUrl: tokens.jwksUrl,
    audience: FHIR_AUDIENCE,
    requiredScope: 'system/DiagnosticReport.crs',
    smartConfiguration: { token_endpoint: tokens.tokenUrl, token_endpoint_auth_methods_supported: ['private_key_jwt'], token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'] },
  });
});

afterAll(async () => {
  await guard.stop();
  await fhir.stop();
  await tokens.stop();
});

afterEach(async () => {
  await tokens.setLifetime(3600);
  await tokens.setOutage(0);
});

const esAuth = { type: 'smart-backend', clientId: 'knee-ai-es384', scope: SCOPE, alg: 'ES384', kid: 'es-1', privateKeyPath: ecKeyPath };
const rsAuth = { type: 'smart-backend', clientId: 'knee-ai-rs384', scope: SCOPE, alg: 'RS384', kid: 'rs-1', privateKeyJwk: publicJwk(rsaKey.privateKey) };

/** A FHIR client of the service configured as an integrator would, through the config schema. */
function clientFor(auth: Record<string, unknown>) {
  const config = parseConfig({ fhir: { baseUrl: guard.url, auth, timeoutMs: 5000 } });
  return createFhirClient(config.fhir as NonNullable<Config['fhir']>);
}

async function issuedTo(clientId: string) {
  return (await tokens.requests()).filter((r) => r.clientId === clientId);
}

it('writes a report through a backend-services token whose endpoint it finds in the SMART configuration', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.13001';
  const { patientId } = await registerStudy(fhir, uid);
  const before = guard.seen.length;
  const running = await startService(testConfig(guard.url, [], { fhir: { baseUrl: guard.url, timeoutMs: 5000, auth: esAuth } }), () =>
    Promise.resolve(sampleAnalysis({ studyInstanceUid: uid })),
  );
  try {
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const done = await waitFor('the job to end', async () => {
      const job = await running.service.jobs.forStudy(uid);
      return job?.state === 'done' || job?.state === 'failed' ? job : undefined;
    });
    expect(done).toMatchObject({ state: 'done', attempts: 1 });
  } finally {
    await running.stop();
  }
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(1);
  const calls = guard.seen.slice(before);
  expect(calls.length).toBeGreaterThanOrEqual(2);
  expect(calls.every((c) => c.outcome === 'passed' && c.clientId === 'knee-ai-es384')).toBe(true);
  expect(await issuedTo('knee-ai-es384')).toEqual([{ clientId: 'knee-ai-es384', outcome: 'issued', scope: SCOPE }]);
});

it('asks the token endpoint once for many concurrent requests (RS384, key given as a JWK)', async () => {
  const client = clientFor({ ...rsAuth, tokenUrl: tokens.tokenUrl });
  const results = await Promise.all(Array.from({ length: 20 }, () => client.search<ImagingStudy>('ImagingStudy', '_count=1')));
  expect(results).toHaveLength(20);
  expect(await issuedTo('knee-ai-rs384')).toEqual([{ clientId: 'knee-ai-rs384', outcome: 'issued', scope: SCOPE }]);
});

it('renews a token before it expires, without a refused request', async () => {
  await tokens.setLifetime(2);
  const client = clientFor(esAuth);
  const before = guard.seen.length;
  const already = (await issuedTo('knee-ai-es384')).length;
  await client.search('ImagingStudy', '_count=1');
  // Past the first token's exp: the gateway would refuse it.
  await new Promise((r) => setTimeout(r, 2500));
  await client.search('ImagingStudy', '_count=1');
  expect((await issuedTo('knee-ai-es384')).length - already).toBe(2);
  expect(guard.seen.slice(before).map((c) => c.outcome)).toEqual(['passed', 'passed']);
});

it('after a 401 drops the token and retries once with a fresh one; a second 401 is fhir-unauthorized', async () => {
  const client = clientFor({ ...rsAuth, tokenUrl: tokens.tokenUrl });
  await client.search('ImagingStudy', '_count=1');
  const already = (await issuedTo('knee-ai-rs384')).length;
  guard.revokeSeenTokens();
  const before = guard.seen.length;
  await client.search('ImagingStudy', '_count=1');
  expect(guard.seen.slice(before).map((c) => c.outcome)).toEqual(['refused', 'passed']);
  expect((await issuedTo('knee-ai-rs384')).length - already).toBe(1);

  // Every token refused: one retry, then the refusal is reported.
  guard.refuseAll(true);
  try {
    const beforeRefusals = guard.seen.length;
    const error = await client.search('ImagingStudy', '_count=1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'fhir-unauthorized', retryable: false });
    expect(guard.seen.slice(beforeRefusals).map((c) => c.outcome)).toEqual(['refused', 'refused']);
  } finally {
    guard.refuseAll(false);
  }
});

it('fails a job at once with fhir-unauthorized when the token endpoint refuses the client, and never calls the FHIR server', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.13002';
  await registerStudy(fhir, uid);
  const before = guard.seen.length;
  const wrongKey = { ...esAuth, clientId: 'knee-ai-wrong-key' };
  const running = await startService(testConfig(guard.url, [], { fhir: { baseUrl: guard.url, timeoutMs: 5000, auth: wrongKey } }), () =>
    Promise.resolve(sampleAnalysis({ studyInstanceUid: uid })),
  );
  try {
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const failed = await waitFor('the job to fail', async () => ((await running.service.jobs.forStudy(uid))?.state === 'failed' ? await running.service.jobs.forStudy(uid) : undefined));
    expect(failed).toMatchObject({ attempts: 1, errorCode: 'fhir-unauthorized' });
    expect(failed.errorReason).toContain('invalid_client');
  } finally {
    await running.stop();
  }
  expect(guard.seen.slice(before)).toEqual([]);
  expect((await issuedTo('knee-ai-wrong-key')).map((r) => r.reason)).toEqual(['the assertion signature does not verify with the registered key']);
});

it('treats a token endpoint that is down as worth retrying, and recovers when it is back', async () => {
  const client = clientFor({ ...esAuth, tokenUrl: tokens.tokenUrl });
  await tokens.setOutage(503);
  const error = await client.search('ImagingStudy', '_count=1').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KneeTumorError);
  expect(error).toMatchObject({ code: 'fhir-error', retryable: true });
  await tokens.setOutage(0);
  await expect(client.search('ImagingStudy', '_count=1')).resolves.toBeDefined();
});

it('refuses at composition a key that does not fit its alg, as a configuration error', () => {
  expect(() => clientFor({ ...esAuth, alg: 'RS384' })).toThrow(expect.objectContaining({ code: 'config-invalid' }) as Error);
  expect(() => parseConfig({ fhir: { baseUrl: guard.url, auth: { ...esAuth, privateKeyJwk: publicJwk(rsaKey.privateKey) } } })).toThrow(/exactly one of privateKeyPath and privateKeyJwk/);
});
