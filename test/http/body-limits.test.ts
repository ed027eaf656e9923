/**
 * Body limits hold before the body is read, for an authenticated caller too: a request that
 * declares a body over its route's limit is answered 413 while nearly all of it is still unsent,
 * and one sent in chunks is answered 413 as it passes the limit; either way the service closes
 * the connection rather than read on. Raw sockets, so that the test decides what is sent when.
 */
import * as net from 'node:net';
import { SignJWT } from 'jose';
import { silentLog } from '../../server/src/log';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { startJwksIssuer, type JwksIssuer } from '../support/jwks-issuer';
import { startService, type RunningService } from '../support/running-service';
import { SERVICE_BASE, TRIGGER_TOKEN, testConfig } from '../support/service-config';

const PATIENT_VIEW = 'knee-tumor-patient-view';
const SMART_FHIR = 'http://127.0.0.1:9/fhir';
const DECLARED = 50 * 1024 * 1024;
const CHUNK = 'x'.repeat(64 * 1024);

let fhir: RunningFhirServer;
let ehr: TestCdsClient;
let smart: JwksIssuer;
let running: RunningService;

beforeAll(async () => {
  fhir = await startFhirServer();
  ehr = await createTestCdsClient();
  smart = await startJwksIssuer();
  const config = testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks }], {
    pacs: { dicomWebUrl: 'http://127.0.0.1:9/dicom-web', timeoutMs: 500 },
    smart: { issuer: smart.issuer, jwksUrl: smart.jwksUrl, fhirBaseUrl: SMART_FHIR },
  });
  running = await startService(config, () => Promise.reject(new Error('not used')));
});
afterAll(async () => {
  await running?.stop();
  await smart?.stop();
  await fhir?.stop();
});

const smartToken = () =>
  new SignJWT({ scope: 'launch patient/ImagingStudy.rs patient/DiagnosticReport.rs patient/Observation.rs', patient: 'p1', fhirUser: 'Practitioner/1', aud: SMART_FHIR })
    .setProtectedHeader({ alg: 'ES384', kid: smart.kid })
    .setIssuer(smart.issuer)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(smart.privateKey);

const KB = 1024;

/** Every route that takes a body, its limit, and a token that lets the request past authentication. */
const routes: Array<{ path: string; limit: number; token: () => Promise<string> }> = [
  { path: `/cds-services/${PATIENT_VIEW}`, limit: 5 * KB * KB, token: () => ehr.token(`${SERVICE_BASE}/cds-services/${PATIENT_VIEW}`) },
  { path: `/cds-services/${PATIENT_VIEW}/feedback`, limit: 64 * KB, token: () => ehr.token(`${SERVICE_BASE}/cds-services/${PATIENT_VIEW}/feedback`) },
  { path: '/triggers/orthanc', limit: 16 * KB, token: async () => TRIGGER_TOKEN },
  { path: '/triggers/studies', limit: 16 * KB, token: async () => TRIGGER_TOKEN },
  { path: '/triggers/fhir-subscription', limit: KB * KB, token: async () => TRIGGER_TOKEN },
  { path: '/app-api/feedback', limit: 16 * KB, token: smartToken },
];

/**
 * Sends the request head and `chunks` body chunks of 64 kB, never the whole body nor its end, and
 * gives what the service answered once it closes the connection: the client never closes it, so
 * a service that waits for the rest of the body never lets this settle.
 */
function post(path: string, token: string, framing: 'declared' | 'chunked', chunks: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(new URL(running.url).port), '127.0.0.1');
    let received = '';
    const length = framing === 'declared' ? `Content-Length: ${DECLARED}` : 'Transfer-Encoding: chunked';
    const chunk = framing === 'chunked' ? `${CHUNK.length.toString(16)}\r\n${CHUNK}\r\n` : CHUNK;
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
      for (let i = 0; i < chunks; i++) socket.write(chunk);
    });
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    // Bytes the service did not read make its close a reset, reported after its answer.
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
  });
}

/** The status line and body of a closing 413, or what came instead. */
function refusal(answer: string): string {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const closing = /\r\nConnection: close\r\n/i.test(`${head}\r\n`) ? 'closing' : 'kept alive';
  return `${head.split('\r\n')[0]} ${closing} ${body}`;
}

const TOO_LARGE = /^HTTP\/1\.1 413 Payload Too Large closing \{"code":"payload-too-large"/;

describe('a body over the limit, from an authenticated caller', () => {
  it.each(routes)('is answered 413 from its declared length while nearly all of it is unsent, and the connection closed ($path)', async ({ path, token }) => {
    // 64 kB of the 50 MB declared.
    expect(refusal(await post(path, await token(), 'declared', 1))).toMatch(TOO_LARGE);
  });

  it.each(routes)('is answered 413 as a chunked body passes the limit, not at its end, and the connection closed ($path)', async ({ path, limit, token }) => {
    expect(refusal(await post(path, await token(), 'chunked', Math.ceil(limit / CHUNK.length) + 1))).toMatch(TOO_LARGE);
  });
});

it('still takes a body within the limit on a kept-alive connection', async () => {
  const response = await fetch(`${running.url}/triggers/studies`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TRIGGER_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ studyInstanceUid: '1.2.826.0.1.3680043.8.498.5' }),
  });
  expect(response.status).toBe(202);
});
