/// <reference lib="dom" />
/**
 * The demo EHR as a third-party client meets it, with real components: the demo started as
 * `npm run demo` starts it (its FHIR engine, OAuth 2 server, Orthanc), with a KNEE_TUMOR_CONFIG
 * naming another CDS client and the app's registration, and Debian's Chromium on a page served
 * from another origin. /fhir/metadata is a valid R4 CapabilityStatement naming the SMART
 * endpoints; a browser on another origin reads the FHIR server; POST _search honours its form
 * body; the configured CDS client is trusted beside the chart's own; the start-up message names
 * every URL, and each answers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bundle, CapabilityStatement, Patient } from 'fhir/r4';
import type { Browser } from 'playwright-core';
import { validationProblems } from '../../server/src/fhir/validate';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { startDemo, type RunningDemo } from '../support/demo';
import { listenOnLoopback } from '../support/loopback';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';
import { launchChromium } from '../support/browser';

const REGISTERED_CLIENT_ID = `third-party-${randomUUID()}`;

let demo: RunningDemo | undefined;
let base: string;
let thirdParty: TestCdsClient;
let browser: Browser | undefined;
let otherOrigin: { server: Server; url: string } | undefined;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'demo-third-party-'));
  thirdParty = await createTestCdsClient('https://sandbox.cds-hooks.example.org');
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ cdsClients: [{ issuer: thirdParty.issuer, jwks: thirdParty.jwks }], smart: { app: { clientId: REGISTERED_CLIENT_ID } } }));
  demo = await startDemo({ model: TEST_DETECTOR_MANIFEST, jobsDb: path.join(dir, 'jobs.sqlite'), config });
  base = demo.base;
  // Another origin: a different port serves the page the browser runs the client from.
  const { server, port } = await listenOnLoopback((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>third-party client</title>'));
  otherOrigin = { server, url: `http://localhost:${port}/` };
  browser = await launchChromium();
}, 180000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (otherOrigin ? otherOrigin.server.close(resolve) : resolve(undefined)));
  await demo?.stop();
});

async function fhirJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${base}/fhir/${url}`, init);
  expect(response.status).toBe(200);
  // Parsed in this realm: the validator checks arrays with instanceof, and fetch's json() builds them in Node's own.
  return JSON.parse(await response.text()) as T;
}

const patients = async () => ((await fhirJson<Bundle<Patient>>('Patient')).entry ?? []).map((e) => e.resource as Patient);

it('answers /fhir/metadata with a valid R4 CapabilityStatement naming its SMART authorization server', async () => {
  const statement = await fhirJson<CapabilityStatement>('metadata');
  expect(statement.resourceType).toBe('CapabilityStatement');
  expect(validationProblems(statement)).toEqual([]);
  expect(statement.fhirVersion).toBe('4.0.1');
  const rest = statement.rest?.[0];
  expect(rest?.resource?.find((r) => r.type === 'ImagingStudy')?.searchParam?.map((p) => p.name)).toContain('patient');
  expect(rest?.security?.service?.[0]?.coding?.[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' });
  const uris = rest?.security?.extension?.find((e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris')?.extension ?? [];
  const smart = await fhirJson<{ authorization_endpoint: string; token_endpoint: string }>('.well-known/smart-configuration');
  expect(Object.fromEntries(uris.map((u) => [u.url, u.valueUri]))).toEqual({ authorize: smart.authorization_endpoint, token: smart.token_endpoint });
  // The advertised endpoints are the demo's authorization server's own.
  const discovery = (await (await fetch(`${base}/oauth/.well-known/openid-configuration`)).json()) as { authorization_endpoint: string; token_endpoint: string };
  expect([discovery.authorization_endpoint, discovery.token_endpoint]).toEqual([smart.authorization_endpoint, smart.token_endpoint]);
});

it('lets a browser page on another origin read a Patient with a bearer token (CORS, preflight included)', async () => {
  const [patient] = await patients();
  if (!browser || !otherOrigin || !patient) throw new Error('not set up');
  const page = await browser.newPage();
  await page.goto(otherOrigin.url);
  const read = await page.evaluate(async (url) => {
    // The Authorization header makes this a non-simple request: the browser sends a preflight first.
    const response = await fetch(url, { headers: { Authorization: 'Bearer third-party-token', Accept: 'application/fhir+json' } });
    return { status: response.status, body: (await response.json()) as { resourceType: string; id: string } };
  }, `${base}/fhir/Patient/${patient.id}`);
  expect(new URL(otherOrigin.url).origin).not.toBe(new URL(base).origin);
  expect(read).toEqual({ status: 200, body: expect.objectContaining({ resourceType: 'Patient', id: patient.id }) });
  await page.close();
});

it('answers POST [type]/_search from its form-encoded body: only the matching patient', async () => {
  const all = await patients();
  expect(all.length).toBeGreaterThan(1);
  const wanted = all[1] as Patient;
  const family = wanted.name?.[0]?.family ?? '';
  const found = await fhirJson<Bundle<Patient>>('Patient/_search', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ family }).toString(),
  });
  expect(found.entry?.map((e) => e.resource?.id)).toEqual([wanted.id]);
});

it('trusts the CDS client of KNEE_TUMOR_CONFIG beside its own, and serves the app registration of its smart section', async () => {
  const id = 'knee-tumor-patient-view';
  const [patient] = await patients();
  const hook = async (token: string) =>
    fetch(`${base}/cds-services/${id}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ hook: 'patient-view', hookInstance: randomUUID(), context: { patientId: patient?.id }, prefetch: { kneeStudies: null, analysisReports: null } }),
    });
  expect((await hook(await thirdParty.token(`${base}/cds-services/${id}`))).status).toBe(200);
  const stranger = await createTestCdsClient('https://stranger.example.org');
  expect((await hook(await stranger.token(`${base}/cds-services/${id}`))).status).toBe(401);
  // The chart's own client still calls the hook (the chart shows the hook's cards).
  const chart = await fetch(`${base}/ehr/patients/${patient?.id}`);
  expect(chart.status).toBe(200);
  expect(await chart.text()).toContain('Decision support card');
  const app = (await (await fetch(`${base}/app/config.json`)).json()) as { clientId: string };
  expect(app.clientId).toBe(REGISTERED_CLIENT_ID);
});

it('prints every URL in its start-up message, and each answers (Orthanc with the printed credentials)', async () => {
  const output = demo?.output ?? '';
  const urls = [`${base}/ehr`, `${base}/fhir`, `${base}/fhir/metadata`, `${base}/fhir/.well-known/smart-configuration`, `${base}/cds-services`, `${base}/app/launch.html`, `${base}/oauth/authorize`, `${base}/oauth/token`];
  for (const url of urls) expect(output).toContain(url);
  for (const url of [`${base}/ehr`, `${base}/fhir/metadata`, `${base}/cds-services`, `${base}/app/launch.html`, `${base}/oauth/jwks`]) {
    expect([url, (await fetch(url)).status]).toEqual([url, 200]);
  }
  const orthanc = /Orthanc \(PACS\): +(http:\/\/\S+), DICOMweb (http:\/\/\S+), user (\S+), password (\S+)/.exec(output);
  if (!orthanc) throw new Error(`no Orthanc line in:\n${output}`);
  const [, , dicomWeb, user, password] = orthanc;
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  expect((await fetch(`${dicomWeb}/studies`, { headers: { Authorization: authorization, Accept: 'application/dicom+json' } })).status).toBe(200);
  expect((await fetch(`${dicomWeb}/studies`, { headers: { Accept: 'application/dicom+json' } })).status).toBe(401);
});
