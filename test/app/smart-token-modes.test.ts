/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The viewer with EHRs that issue the access tokens real EHRs issue, each on its own origin (test/
 * support/smart-ehr.ts: our FHIR engine that checks tokens, oauth2-mock-server with PKCE, SMART
 * discovery, introspection), a real Orthanc with the demo's phantom studies analysed by the test
 * detector, our service once per token validation mode, and Debian's Chromium doing the EHR
 * launch: an opaque token checked by introspection, the same checked against the EHR's FHIR
 * server, a JWT signed with a secret the service never learns, an introspection client the EHR
 * refuses (the app says what to configure). And /app-api refuses another patient's study in every
 * mode, whatever patient the request names (no mode reads a patient from the request).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiagnosticReport, ImagingStudy, Patient } from 'fhir/r4';
import type { Browser, Page } from 'playwright-core';
import { parseConfig, type Config } from '../../server/src/config';
import { demoSamples, loadSamples } from '../../server/src/demo/sample-data';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { SYSTEMS } from '../../fhir-profiles/codes';
import { createFhirEngine, type FhirEngine } from '../../server/src/fhir/memory-engine';
import { loadPacsAnalysis, type PacsAnalysis } from '../../server/src/pipeline/pacs-analysis';
import { listenOnLoopback, type ListeningServer } from '../support/loopback';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { startService, waitFor, type RunningService } from '../support/running-service';
import { APP_CLIENT_ID, APP_SCOPE, INTROSPECTION_CLIENT, launchTokens, startSmartEhr, type SmartEhr } from '../support/smart-ehr';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';
import { launchChromium } from '../support/browser';

const SHOTS = path.resolve(__dirname, '../../test-output/app');
const PACS_USER = { username: 'knee-ai', password: 'test-pacs-secret' };

type Mode = 'jwt' | 'introspection' | 'fhir';

let orthanc: RunningOrthanc;
let engine: FhirEngine;
let browser: Browser;
const ehrs: SmartEhr[] = [];
const services: RunningService[] = [];
/** Mia Jensen (a tumour on her newest study) and Olav Berg: two patients of the same EHR. */
let mia: { id: string; study: ImagingStudy; studyUid: string; report: DiagnosticReport };
let bergStudyUid: string;

function tokenValidation(mode: Mode, ehr: SmartEhr, clientSecret = INTROSPECTION_CLIENT.clientSecret): Record<string, unknown> {
  if (mode === 'jwt') return { mode, issuer: ehr.issuer, jwksUrl: `${ehr.issuer}/jwks` };
  if (mode === 'introspection') return { mode, introspectionUrl: ehr.introspectionUrl, clientId: INTROSPECTION_CLIENT.clientId, clientSecret };
  return { mode };
}

function serviceConfig(ehr: SmartEhr, validation: Record<string, unknown>, { port, origin: base }: ListeningServer): Config {
  return parseConfig({
    pacs: { dicomWebUrl: orthanc.dicomWebUrl, auth: { type: 'basic', ...PACS_USER } },
    fhir: { baseUrl: ehr.systemFhirUrl },
    service: { baseUrl: base, port, appLaunchUrl: `${base}/app/launch.html`, modelCardUrl: `${base}/model-card` },
    smart: { fhirBaseUrl: ehr.fhirBaseUrl, tokenValidation: validation, app: { clientId: APP_CLIENT_ID, scope: APP_SCOPE } },
    jobs: { databasePath: path.join(mkdtempSync(path.join(os.tmpdir(), 'smart-modes-')), 'jobs.sqlite'), initialBackoffMs: 200, maxBackoffMs: 1000 },
    model: { manifestPath: TEST_DETECTOR_MANIFEST, allowDemonstrationModel: true },
  });
}

/** Every service runs the same analysis (only the first one is given studies). */
let analysis: PacsAnalysis;

async function startViewerService(ehr: SmartEhr, validation: Record<string, unknown>): Promise<RunningService> {
  // Listening first: the service's base URL (its launch page) holds its port.
  const listening = await listenOnLoopback();
  const running = await startService(serviceConfig(ehr, validation, listening), analysis.analyse, analysis.detector.identity, listening);
  services.push(running);
  return running;
}

async function search<T>(query: string): Promise<T[]> {
  return engine.search(query) as Promise<T[]>;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  orthanc = await startOrthanc({ credentials: PACS_USER });
  engine = createFhirEngine();
  const config = parseConfig({
    pacs: { dicomWebUrl: orthanc.dicomWebUrl, auth: { type: 'basic', ...PACS_USER } },
    model: { manifestPath: TEST_DETECTOR_MANIFEST, allowDemonstrationModel: true },
  });
  if (!config.pacs) throw new Error('no PACS');
  analysis = await loadPacsAnalysis(config.pacs, config.model, config.analysis, () => undefined);
  const uids = await loadSamples(demoSamples(), engine, new DicomWebClient(config.pacs));

  // The studies are analysed once, by one service's worker; every service reads the reports from FHIR.
  const ehr = await startSmartEhr(engine, 'jwt');
  ehrs.push(ehr);
  const analyser = await startViewerService(ehr, tokenValidation('jwt', ehr));
  for (const uid of uids) await analyser.service.jobs.enqueue(uid, 'http');
  analyser.service.worker.wake();
  const finished = async (uid: string) => ['done', 'failed'].includes((await analyser.service.jobs.forStudy(uid))?.state ?? '');
  await waitFor('the analysis of the sample studies', async () => ((await Promise.all(uids.map(finished))).every(Boolean) ? true : undefined), 120000);

  const patients = await search<Patient>('Patient');
  const idOf = (family: string) => patients.find((p) => p.name?.[0]?.family === family)?.id ?? '';
  const miaId = idOf('Jensen');
  const reports = await search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${miaId}`);
  const studies = await search<ImagingStudy>(`ImagingStudy?subject=Patient/${miaId}&_sort=-started`);
  const study = studies[0];
  const report = reports.find((r) => r.imagingStudy?.[0]?.reference === `ImagingStudy/${study?.id}`);
  if (!study || !report) throw new Error('Mia Jensen\'s newest study has no report');
  const uidOf = (s: ImagingStudy) => s.identifier?.find((i) => i.system === SYSTEMS.dicomUid)?.value?.replace(/^urn:oid:/, '') ?? '';
  mia = { id: miaId, study, studyUid: uidOf(study), report };
  const berg = await search<ImagingStudy>(`ImagingStudy?subject=Patient/${idOf('Berg')}`);
  bergStudyUid = uidOf(berg[0] as ImagingStudy);
  browser = await launchChromium();
}, 240000);

afterAll(async () => {
  await browser?.close();
  for (const service of services) await service.stop();
  await analysis?.detector.release();
  for (const ehr of ehrs) await ehr.stop();
  await orthanc?.stop();
});

interface LaunchedViewer {
  page: Page;
  /** Failed responses and console lines, for the message of a failing test. */
  log: string[];
}

/** The EHR launch of the viewer for Mia Jensen's newest study, as a card link would start it. */
async function launchViewer(ehr: SmartEhr, service: RunningService): Promise<LaunchedViewer> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) log.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const appContext = JSON.stringify({ studyInstanceUid: mia.studyUid, imagingStudy: `ImagingStudy/${mia.study.id}`, diagnosticReport: `DiagnosticReport/${mia.report.id}` });
  const launch = await ehr.registerLaunch({ patient: mia.id, imagingStudy: `ImagingStudy/${mia.study.id}`, appContext });
  await page.goto(`${service.url}/app/launch.html?${new URLSearchParams({ launch, iss: ehr.fhirBaseUrl }).toString()}`);
  await page.waitForURL(/\/app\/index\.html/);
  return { page, log };
}

/** Waits for both radiographs loaded through /app-api and at least one box drawn on them. */
async function expectBothViewsWithBoxes({ page, log }: LaunchedViewer, shot: string): Promise<void> {
  await page
    .waitForFunction(() => {
      const viewers = [...(document.querySelector('knee-app')?.shadowRoot?.querySelectorAll('radiograph-viewer') ?? [])];
      const loaded = viewers.length === 2 && viewers.every((v) => (v.shadowRoot?.querySelector('img')?.naturalWidth ?? 0) > 0);
      return loaded && viewers.some((v) => v.shadowRoot?.querySelector('g.box rect.outline'));
    }, undefined, { timeout: 30000 })
    .catch(async (error: Error) => {
      await page.screenshot({ path: path.join(SHOTS, `failed-${shot}.png`), fullPage: true });
      const text = await page.evaluate(() => document.querySelector('knee-app')?.shadowRoot?.textContent ?? document.body.textContent ?? '');
      throw new Error(`${error.message}\npage: ${text}\nbrowser:\n${log.join('\n')}`);
    });
  await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
}

describe.each([
  ['an opaque token checked by introspection', 'opaque', 'introspection'],
  ['an opaque token checked against the EHR\'s FHIR server', 'opaque', 'fhir'],
  ['a JWT signed with a secret the service never learns, checked by introspection', 'hs256', 'introspection'],
  ['a JWT signed with a secret the service never learns, checked against the EHR\'s FHIR server', 'hs256', 'fhir'],
] as const)('with %s', (_title, form, mode) => {
  let ehr: SmartEhr;
  let service: RunningService;
  beforeAll(async () => {
    ehr = await startSmartEhr(engine, form);
    ehrs.push(ehr);
    service = await startViewerService(ehr, tokenValidation(mode, ehr));
  }, 60000);

  it('shows both radiographs with the AI boxes', async () => {
    const viewer = await launchViewer(ehr, service);
    await expectBothViewsWithBoxes(viewer, `modes-${form}-${mode}`);
    await viewer.page.close();
  }, 90000);
});

describe.each(['jwt', 'introspection', 'fhir'] as const)('/app-api in %s mode', (mode) => {
  let ehr: SmartEhr;
  let service: RunningService;
  beforeAll(async () => {
    ehr = await startSmartEhr(engine, mode === 'jwt' ? 'jwt' : 'opaque');
    ehrs.push(ehr);
    service = await startViewerService(ehr, tokenValidation(mode, ehr));
  }, 60000);

  /** `claimedPatient`: a header naming a patient, which no mode reads (the launch patient is the EHR's word). */
  const analysisOf = (study: string, token: string, claimedPatient: string) =>
    fetch(`${service.url}/app-api/studies/${study}/analysis`, { headers: { Authorization: `Bearer ${token}`, 'X-Launch-Patient': claimedPatient } });
  /** Mia's launch, the code exchanged as the app does in this mode (through the service's broker in `fhir` mode). */
  const miasTokens = () => launchTokens(ehr, mia.id, mode === 'fhir' ? `${service.url}/app-api/token` : undefined);

  it('serves the launch patient\'s study and refuses another patient\'s with 403 patient-mismatch', async () => {
    const tokens = await miasTokens();
    const own = await analysisOf(mia.studyUid, tokens.access_token, tokens.patient);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ state: expect.any(String) });
    const other = await analysisOf(bergStudyUid, tokens.access_token, tokens.patient);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ code: 'patient-mismatch' });
  });

  it('does not let the request choose the patient', async () => {
    const tokens = await miasTokens();
    const bergId = (await search<Patient>('Patient')).find((p) => p.name?.[0]?.family === 'Berg')?.id ?? '';
    const claimed = await analysisOf(bergStudyUid, tokens.access_token, bergId);
    expect(claimed.status).toBe(403);
  });

  it('answers an unknown token with 401: session-expired, or token-unverifiable where the mode cannot read its form', async () => {
    const response = await analysisOf(mia.studyUid, 'not-a-token-this-ehr-issued', mia.id);
    expect(response.status).toBe(401);
    // An opaque token is not a JWT: the jwt mode cannot check it at all, which reopening the viewer does not change.
    expect(await response.json()).toMatchObject({ code: mode === 'jwt' ? 'token-unverifiable' : 'session-expired' });
  });
});

it('says the server refused access, and what to configure, when the EHR refuses the introspection client', async () => {
  const ehr = await startSmartEhr(engine, 'opaque');
  ehrs.push(ehr);
  const service = await startViewerService(ehr, tokenValidation('introspection', ehr, 'a-secret-the-ehr-does-not-know'));
  const { page } = await launchViewer(ehr, service);
  const alert = page.getByRole('alert');
  await alert.getByText('The server refused access to the images').waitFor({ timeout: 30000 });
  expect(await alert.textContent()).toContain('smart.tokenValidation.clientId, clientSecret');
  expect(await alert.textContent()).not.toContain('Your session has ended');
  await page.screenshot({ path: path.join(SHOTS, 'modes-refused.png'), fullPage: true });
  await page.close();
}, 90000);

it('refuses a launch from an EHR that is not among the allowed issuers', async () => {
  const ehr = await startSmartEhr(engine, 'opaque');
  ehrs.push(ehr);
  const service = services[0];
  if (!service) throw new Error('no service');
  const page = await browser.newPage();
  const launch = await ehr.registerLaunch({ patient: mia.id });
  await page.goto(`${service.url}/app/launch.html?${new URLSearchParams({ launch, iss: ehr.fhirBaseUrl }).toString()}`);
  const alert = page.getByRole('alert');
  await alert.getByText('This EHR may not launch the viewer').waitFor();
  expect(await alert.textContent()).toContain('smart.app.allowedIssuers');
  expect(page.url()).toContain('/app/launch.html');
  await page.close();
});
