/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The viewer in Chromium behind an EHR whose FHIR server enforces no patient scope and ignores
 * `patient=` (so every search returns both patients' resources), with /app-api held by the page's
 * router for as long as the test likes: launched for Olav Berg, the page never shows Mia Jensen's
 * study, report, score or the Agree/Disagree control at any moment, whether the launch names her
 * study (a refusal, "not this patient's study") or no study (Olav's own is shown). The service runs
 * in `fhir` mode, so the app's code exchange goes through the service's token broker. And a JWT
 * signed with a secret (HS256) in `jwt` mode is the service's set-up, not an ended session.
 */
import type { ImagingStudy, Patient } from 'fhir/r4';
import type { Browser, Page, Route } from 'playwright-core';
import { createFhirClient } from '../../server/src/fhir/client';
import { createFhirEngine } from '../../server/src/fhir/memory-engine';
import { writeReport } from '../../server/src/results/fhir/write-report';
import { sampleAnalysis } from '../support/analysis-fixture';
import { launchChromium } from '../support/browser';
import { RECENT_STUDY_STARTED, daysAgo } from '../support/fhir-fixtures';
import { startService, type RunningService } from '../support/running-service';
import { testConfig } from '../support/service-config';
import { APP_CLIENT_ID, APP_SCOPE, startSmartEhr, type SmartEhr } from '../support/smart-ehr';

const MIAS_STUDY = 'MIA-JENSEN-KNEE-STUDY';
const engine = createFhirEngine();
let browser: Browser;
const ehrs: SmartEhr[] = [];
const services: RunningService[] = [];
let mia: { patientId: string; imagingStudyId: string; uid: string; report: string };
let olav: { patientId: string };

async function patient(given: string, family: string): Promise<string> {
  return (await engine.create<Patient>({ resourceType: 'Patient', name: [{ given: [given], family }], gender: 'female', birthDate: '2008-03-01' })).id;
}

async function study(patientId: string, uid: string, started: string, description: string): Promise<string> {
  const created = await engine.create<ImagingStudy>({
    resourceType: 'ImagingStudy',
    status: 'available',
    subject: { reference: `Patient/${patientId}` },
    started,
    description,
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uid}` }],
    modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'DX' }],
  });
  return created.id;
}

async function viewerService(ehr: SmartEhr, tokenValidation: Record<string, unknown>): Promise<RunningService> {
  const config = testConfig(ehr.systemFhirUrl, [], {
    // Nothing listens there: no image is ever rendered in these tests.
    pacs: { dicomWebUrl: 'http://127.0.0.1:9/dicom-web', timeoutMs: 1000 },
    smart: { fhirBaseUrl: ehr.fhirBaseUrl, tokenValidation, app: { clientId: APP_CLIENT_ID, scope: APP_SCOPE } },
  });
  const running = await startService(config, () => Promise.reject(new Error('no analysis in these tests')));
  services.push(running);
  return running;
}

beforeAll(async () => {
  const miaId = await patient('Mia', 'Jensen');
  const olavId = await patient('Olav', 'Berg');
  const uid = '1.2.826.0.1.3680043.8.498.5551';
  // Mia's study is the newest, so a list of everyone's studies would open on hers.
  const imagingStudyId = await study(miaId, uid, RECENT_STUDY_STARTED, MIAS_STUDY);
  await study(olavId, '1.2.826.0.1.3680043.8.498.5552', daysAgo(40), 'Olav knee');
  mia = { patientId: miaId, imagingStudyId, uid, report: '' };
  olav = { patientId: olavId };
  browser = await launchChromium();
}, 60000);

afterAll(async () => {
  await browser?.close();
  for (const service of services) await service.stop();
  for (const ehr of ehrs) await ehr.stop();
});

/** All text of the page, shadow roots included, and which of the result's elements are there. */
function screen(page: Page) {
  return page.evaluate(() => {
    const parts: string[] = [];
    const elements: string[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const element of root.querySelectorAll('*')) {
        elements.push(element.localName);
        if (element.shadowRoot) walk(element.shadowRoot);
      }
      parts.push(root instanceof Document ? (root.body?.innerText ?? '') : (root.textContent ?? ''));
    };
    walk(document);
    return { text: parts.join('\n'), elements };
  });
}

/** /app-api requests wait until released, as behind a slow service. */
function holdAppApi(page: Page): { release(): void; held(): number } {
  const waiting: Route[] = [];
  let released = false;
  void page.route('**/app-api/studies/**', async (route) => {
    if (released) return route.continue();
    waiting.push(route);
  });
  return {
    release() {
      released = true;
      for (const route of waiting.splice(0)) void route.continue();
    },
    held: () => waiting.length,
  };
}

describe('launched for Olav, behind a FHIR server that returns every patient\'s resources', () => {
  let ehr: SmartEhr;
  let service: RunningService;
  beforeAll(async () => {
    ehr = await startSmartEhr(engine, 'opaque', { patientScope: false });
    ehrs.push(ehr);
    service = await viewerService(ehr, { mode: 'fhir' });
    // Mia's positive AI report; Olav has none.
    ({ report: mia.report } = await writeReport(createFhirClient({ baseUrl: ehr.systemFhirUrl, timeoutMs: 3000 }), sampleAnalysis({ studyInstanceUid: mia.uid, positive: true })));
  }, 60000);

  /** Launches the viewer for Olav, /app-api held; polls the screen until `settled` holds after the release. */
  async function watch(appContext: Record<string, string> | undefined, settled: (text: string) => boolean): Promise<string[]> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const gate = holdAppApi(page);
    const launch = await ehr.registerLaunch({ patient: olav.patientId, ...(appContext ? { appContext: JSON.stringify(appContext) } : {}) });
    await page.goto(`${service.url}/app/launch.html?${new URLSearchParams({ launch, iss: ehr.fhirBaseUrl }).toString()}`);
    await page.waitForURL(/\/app\/index\.html/);
    const seen: string[] = [];
    let heldAt: number | undefined;
    let released = false;
    for (let poll = 0; ; poll += 1) {
      const { text, elements } = await screen(page);
      seen.push(text);
      for (const forbidden of ['Jensen', MIAS_STUDY]) expect(text).not.toContain(forbidden);
      expect(elements).not.toContain('feedback-control');
      expect(elements).not.toContain('radiograph-viewer');
      // Twenty looks with the app's first /app-api request waiting (or sixty when it makes none), then it is let through.
      if (heldAt === undefined && gate.held() > 0) heldAt = poll;
      if (!released && (heldAt !== undefined ? poll - heldAt >= 20 : poll >= 60)) {
        gate.release();
        released = true;
      }
      if (released && settled(text)) break;
      if (poll > 600) throw new Error(`the page did not settle:\n${text}`);
      await page.waitForTimeout(50);
    }
    await page.close();
    return seen;
  }

  it('refuses the study the launch names when it is Mia\'s, and never shows any of it', async () => {
    const seen = await watch({ studyInstanceUid: mia.uid, imagingStudy: `ImagingStudy/${mia.imagingStudyId}`, diagnosticReport: mia.report }, (text) => text.includes('Not this patient\'s study'));
    expect(seen.at(-1)).toContain('not this patient\'s study');
  }, 90000);

  it('shows Olav\'s own study when the launch names none, never Mia\'s', async () => {
    const seen = await watch(undefined, (text) => text.includes('This study has no AI result'));
    expect(seen.at(-1)).toContain('Olav Berg');
  }, 90000);
});

it('says the viewer cannot check the EHR\'s tokens, not that the session ended, for an HS256 token in jwt mode', async () => {
  const ehr = await startSmartEhr(engine, 'hs256');
  ehrs.push(ehr);
  const service = await viewerService(ehr, { mode: 'jwt', issuer: ehr.issuer, jwksUrl: `${ehr.issuer}/jwks` });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const launch = await ehr.registerLaunch({ patient: olav.patientId });
  await page.goto(`${service.url}/app/launch.html?${new URLSearchParams({ launch, iss: ehr.fhirBaseUrl }).toString()}`);
  const alert = page.getByRole('alert');
  await alert.getByText('The viewer cannot check this EHR\'s access tokens').waitFor({ timeout: 30000 });
  const text = (await alert.textContent()) ?? '';
  expect(text).toContain('smart.tokenValidation.mode jwt');
  expect(text).toContain('introspection or fhir');
  expect(text).not.toContain('Your session has ended');
  expect(text).not.toMatch(/open it again/i);
  await page.close();
}, 90000);
