/// <reference lib="dom" />
/**
 * The demo (started as `npm start` starts it, with the test detector) as a third party runs it:
 * a study stored into its Orthanc is announced by Orthanc's stable-study trigger and analysed
 * without waiting for reconciliation; its Orthanc, killed, is started again with its studies; the
 * service's log goes to the file the start-up message names (a hook's dropped resources show
 * there); /ehr and /fhir carry security headers and the chart still works in a browser; the
 * patients keep ids derived from their definition, printed for a launcher, and the id token of
 * a launch with `openid fhirUser` names the demo's Practitioner. Last, an Orthanc that cannot be
 * started again stops the demo with a message.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bundle, DiagnosticReport, ImagingStudy, Patient, Practitioner } from 'fhir/r4';
import type { Browser } from 'playwright-core';
import { SYSTEMS, studyIdentifierValue } from '../../fhir-profiles/codes';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { demoSamples, type DemoPatient } from '../../server/src/demo/sample-data';
import { launchChromium } from '../support/browser';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { orthancsWith, startDemo, type RunningDemo } from '../support/demo';
import { freshPhantoms } from '../support/fresh-phantoms';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

const marker = randomUUID();
let demo: RunningDemo;
let client: TestCdsClient;
let pacs: { dicomWebUrl: string; username: string; password: string };
/** The sample patients as defined (rendering their radiographs takes a while: once, before the demo starts). */
let samples: DemoPatient[];

/** A line of the start-up message, after its label. */
function printed(label: string): string {
  const line = new RegExp(`${label}: +(.*)`).exec(demo.output)?.[1];
  if (!line) throw new Error(`no "${label}" line in:\n${demo.output}`);
  return line;
}

function serviceLog(): { event: string; [field: string]: unknown }[] {
  return readFileSync(printed('Service log \\(JSON lines\\)'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string });
}

/** Polls `probe` until it returns a value (a study being analysed, a process starting); no time is asserted. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, withinMs = 120000): Promise<T> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen; the demo printed:\n${demo.printed()}`);
}

const studiesInPacs = async () => {
  const authorization = `Basic ${Buffer.from(`${pacs.username}:${pacs.password}`).toString('base64')}`;
  const response = await fetch(`${pacs.dicomWebUrl}/studies`, { headers: { Authorization: authorization, Accept: 'application/dicom+json' } });
  return response.ok ? ((await response.json()) as unknown[]).length : undefined;
};

beforeAll(async () => {
  samples = demoSamples();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'demo-operations-'));
  client = await createTestCdsClient('https://sandbox.cds-hooks.example.org');
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ cdsClients: [{ issuer: client.issuer, jwks: client.jwks }] }));
  demo = await startDemo({ model: TEST_DETECTOR_MANIFEST, jobsDb: path.join(dir, 'jobs.sqlite'), config, marker });
  const [, dicomWebUrl = '', username = '', password = ''] = /DICOMweb (http:\/\/\S+), user (\S+), password (\S+)/.exec(printed('Orthanc \\(PACS\\)')) ?? [];
  pacs = { dicomWebUrl, username, password };
}, 180000);

afterAll(async () => {
  await demo?.stop();
});

it("analyses a study stored into its Orthanc when Orthanc's stable-study trigger announces it", async () => {
  const [phantom] = freshPhantoms(true, 1);
  const uid = phantom?.reference.studyInstanceUid;
  if (!phantom || !uid) throw new Error('no fresh phantom');
  // As an EHR would: the patient and the ImagingStudy the report will be about.
  const post = async <T>(resource: T & { resourceType: string }) =>
    (await (await fetch(`${demo.base}/fhir/${resource.resourceType}`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(resource) })).json()) as T & { id: string };
  const patient = await post<Patient>({ resourceType: 'Patient', name: [{ family: 'Triggered' }] });
  await post<ImagingStudy>({ resourceType: 'ImagingStudy', status: 'available', subject: { reference: `Patient/${patient.id}` }, identifier: [{ system: SYSTEMS.dicomUid, value: studyIdentifierValue(uid) }] });
  await new DicomWebClient({ dicomWebUrl: pacs.dicomWebUrl, auth: { type: 'basic', username: pacs.username, password: pacs.password }, timeoutMs: 20000 }).storeInstances([phantom.ap, phantom.lateral]);

  const report = await eventually('the report of the stored study', async () => {
    const bundle = (await (await fetch(`${demo.base}/fhir/DiagnosticReport?patient=Patient/${patient.id}`)).json()) as Bundle<DiagnosticReport>;
    return bundle.entry?.[0]?.resource;
  });
  expect(report.subject?.reference).toBe(`Patient/${patient.id}`);
  // Orthanc announced it: reconciliation searches only at start (before the study existed) and every 5 minutes.
  expect(serviceLog().filter((e) => e.event === 'study-triggered' && e.study === uid).map((e) => e.source)).toContain('orthanc');
}, 150000);

it('starts its Orthanc again when it is killed, on the same port with the same studies', async () => {
  const before = await studiesInPacs();
  expect(before).toBeGreaterThan(0);
  const [pid] = orthancsWith(marker);
  if (!pid) throw new Error('the demo has no Orthanc running');
  process.kill(pid, 'SIGKILL');
  const restarted = await eventually('a new Orthanc', async () => orthancsWith(marker).find((p) => p !== pid));
  expect(restarted).not.toBe(pid);
  expect(await eventually('DICOMweb answering again', studiesInPacs)).toBe(before);
  await eventually('the restart message', async () => (demo.printed().includes("The demo's Orthanc stopped (SIGKILL) and was started again") ? true : undefined));
  expect(serviceLog().some((e) => e.event === 'orthanc-restarted' && e.cause === 'SIGKILL')).toBe(true);
}, 150000);

it("writes the service's log to the file its start-up message names: a hook's dropped resources are logged there", async () => {
  const [mine, other] = samples.map((s) => s.patient.id);
  const endpoint = `${demo.base}/cds-services/knee-tumor-patient-view`;
  const foreign: ImagingStudy = { resourceType: 'ImagingStudy', id: 'foreign-study', status: 'available', subject: { reference: `Patient/${other}` } };
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await client.token(endpoint)}` },
    body: JSON.stringify({
      hook: 'patient-view',
      hookInstance: randomUUID(),
      context: { patientId: mine, userId: 'Practitioner/demo-clinician' },
      prefetch: { kneeStudies: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: foreign }] }, analysisReports: { resourceType: 'Bundle', type: 'searchset' } },
    }),
  });
  expect(response.status).toBe(200);
  const dropped = await eventually('the cds-resources-dropped entry', async () => serviceLog().find((e) => e.event === 'cds-resources-dropped'));
  expect(String(dropped.resources)).toContain('ImagingStudy/foreign-study');
  // The log is JSON lines with no patient names (the samples' names are known here).
  const text = readFileSync(printed('Service log \\(JSON lines\\)'), 'utf8');
  for (const sample of samples) expect(text).not.toContain(sample.patient.name?.[0]?.family ?? '?');
});

describe('security headers', () => {
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  it('/ehr and /fhir answer with a CSP forbidding framing by others, and nosniff', async () => {
    const [patient] = samples.map((s) => s.patient.id);
    for (const page of ['/ehr', `/ehr/patients/${patient}`, '/ehr/ehr.css']) {
      const response = await fetch(`${demo.base}${page}`);
      expect([page, response.status, response.headers.get('x-content-type-options')]).toEqual([page, 200, 'nosniff']);
      expect(response.headers.get('content-security-policy')).toMatch(/frame-ancestors 'self'/);
      expect(response.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    }
    for (const resource of ['/fhir/metadata', `/fhir/Patient/${patient}`, '/fhir/.well-known/smart-configuration']) {
      const response = await fetch(`${demo.base}${resource}`);
      expect([resource, response.status, response.headers.get('x-content-type-options')]).toEqual([resource, 200, 'nosniff']);
      expect(response.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
    }
  });

  it('the chart page loads its stylesheet under its CSP and its card link opens the app', async () => {
    const [patient] = samples.map((s) => s.patient.id);
    browser = await launchChromium();
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${demo.base}/ehr/patients/${patient}`);
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('.ehr-bar') as Element).backgroundColor)).toBe('rgb(36, 52, 71)');
    await page.click('section.card a[href^="/ehr/launch"]');
    await page.waitForURL((url) => url.href.startsWith(`${demo.base}/app/`));
    expect(violations).toEqual([]);
  }, 60000);
});

describe('a third-party SMART launch', () => {
  it('prints the launch URL, iss, client id and the patient ids, which come from the sample definitions', async () => {
    const ids = samples.map((s) => s.patient.id);
    expect(ids).toEqual(['demo-100017', 'demo-100032']);
    expect(printed('Launch from a third party')).toBe(`launch URL ${demo.base}/app/launch.html, iss ${demo.base}/fhir, client id knee-tumor-viewer`);
    for (const id of ids) {
      expect(printed('Patient ids')).toContain(id);
      expect((await fetch(`${demo.base}/fhir/Patient/${id}`)).status).toBe(200);
    }
    const patients = ((await (await fetch(`${demo.base}/fhir/Patient`)).json()) as Bundle<Patient>).entry?.map((e) => e.resource?.id) ?? [];
    expect(patients.sort()).toEqual(expect.arrayContaining(ids));
  });

  it("names the demo's Practitioner as fhirUser in the id token of a launch with openid fhirUser", async () => {
    const [patient = ''] = samples.map((s) => s.patient.id);
    const fhirBase = `${demo.base}/fhir`;
    const launch = await fetch(`${demo.base}/ehr/launch?${new URLSearchParams({ patient, url: `${demo.base}/app/launch.html` })}`, { redirect: 'manual' });
    const launchId = new URL(launch.headers.get('location') ?? '').searchParams.get('launch') ?? '';
    const verifier = randomBytes(32).toString('base64url');
    const redirectUri = 'http://127.0.0.1:9/callback';
    const authorize = await fetch(
      `${demo.base}/oauth/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: 'smart-launcher',
        redirect_uri: redirectUri,
        scope: 'launch openid fhirUser patient/*.rs',
        state: 'state',
        aud: fhirBase,
        launch: launchId,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    const code = new URL(authorize.headers.get('location') ?? '').searchParams.get('code');
    if (!code) throw new Error(`no code: ${authorize.headers.get('location')}`);
    const token = (await (
      await fetch(`${demo.base}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'smart-launcher', code_verifier: verifier }).toString(),
      })
    ).json()) as { id_token?: string; patient?: string };
    expect(token.patient).toBe(patient);
    const claims = JSON.parse(Buffer.from((token.id_token ?? '').split('.')[1] ?? '', 'base64url').toString()) as { fhirUser?: string };
    expect(claims.fhirUser).toBe(printed('Practitioner \\(fhirUser\\)'));
    const practitioner = (await (await fetch(claims.fhirUser ?? '')).json()) as Practitioner;
    expect(practitioner).toMatchObject({ resourceType: 'Practitioner', id: 'demo-clinician' });
  });
});

it('stops, saying why, when its Orthanc dies and cannot be started again', async () => {
  const [pid] = orthancsWith(marker);
  if (!pid) throw new Error('the demo has no Orthanc running');
  // Orthanc is started again from the same configuration file: spoilt, the restart fails.
  const configPath = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] ?? '';
  writeFileSync(configPath, '{ not json');
  process.kill(pid, 'SIGKILL');
  const code = await eventually('the demo exiting', async () => demo.exitCode() ?? undefined);
  expect(code).toBe(1);
  expect(demo.printed()).toMatch(/The demo's Orthanc stopped and could not be started again \(Orthanc exited with \d+\): the demo stops, since it has no PACS\./);
  expect(orthancsWith(marker)).toEqual([]);
}, 150000);
