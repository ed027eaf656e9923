/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The whole chain a clinician goes through, with real components: the demo (FHIR engine, OAuth 2
 * server with PKCE, CDS service, viewer, a real Orthanc with phantom studies analysed by the test
 * detector) started as `npm run demo` starts it, and Debian's Chromium. From the chart's card to
 * the viewer by EHR launch, then what a person sees: both images, one box per lesion Observation,
 * a box still on its image pixels after zooming, and feedback stored by the service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiagnosticReport, Observation } from 'fhir/r4';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createFeedbackStore } from '../../cds-hooks/feedback';
import { FINDING } from '../../server/src/fhir/codes';
import { openDatabase } from '../../server/src/jobs/database';
import { DEFAULT_OPTIONS } from '../../models/phantoms/generate';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

const repo = path.resolve(__dirname, '../..');
const SHOTS = path.join(repo, 'test-output/app');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** The demo's phantoms have the generator's default size (server/src/demo/sample-data.ts): the PNG must be exactly that. */
const PHANTOM = { width: DEFAULT_OPTIONS.width, height: DEFAULT_OPTIONS.height };

let demo: ChildProcess;
let base: string;
let jobsDb: string;
let browser: Browser;

beforeAll(async () => {
  jobsDb = path.join(mkdtempSync(path.join(os.tmpdir(), 'viewer-test-')), 'jobs.sqlite');
  demo = spawn(process.execPath, [path.join(repo, 'dist/server/src/demo/main.js')], {
    env: { PATH: process.env.PATH, KNEE_TUMOR_DEMO_PORT: '0', KNEE_TUMOR_JOBS_DB: jobsDb, KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not get ready:\n${output}`)), 150000);
    const read = (d: Buffer) => {
      output += d.toString();
      const url = /Demo EHR ready: open (http:\/\/\S+)\/ehr/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    demo.stdout?.on('data', read);
    demo.stderr?.on('data', read);
    demo.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${output}`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
}, 180000);

afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  }
});

async function fhirGet<T>(url: string): Promise<T> {
  const response = await fetch(`${base}/fhir/${url}`);
  return (await response.json()) as T;
}

/** Each drawn box: its Observation id and where its outline and the image are on the screen. */
function drawnBoxes(page: Page, view: 'AP' | 'Lateral') {
  return page.evaluate((label) => {
    const app = document.querySelector('knee-app')?.shadowRoot;
    const viewer = [...(app?.querySelectorAll('radiograph-viewer') ?? [])].find((v) => v.getAttribute('label') === label);
    const root = viewer?.shadowRoot;
    const img = root?.querySelector('img');
    const rect = (e: Element) => {
      const r = e.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    return {
      image: img ? { ...rect(img), naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight } : undefined,
      boxes: [...(root?.querySelectorAll('g.box') ?? [])].map((g) => ({ id: g.getAttribute('data-box-id') ?? '', ...rect(g.querySelector('rect.outline') as Element) })),
    };
  }, view);
}

it('launches from the chart card, shows both views with one box per lesion, keeps boxes on the image when zoomed, and stores feedback', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('requestfailed', (r) => consoleLines.push(`failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) consoleLines.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${base}/ehr`);
  await page.getByRole('link', { name: 'Mia Jensen' }).click();
  const cardLink = page.getByRole('link', { name: 'Open the radiographs with the AI boxes' }).first();
  await cardLink.waitFor();
  await page.screenshot({ path: path.join(SHOTS, '1-chart-with-card.png'), fullPage: true });
  const appContext = JSON.parse(new URL(await cardLink.getAttribute('href') ?? '', base).searchParams.get('appContext') ?? '{}') as { diagnosticReport: string };

  await cardLink.click();
  await page.waitForURL(/\/app\/index\.html/);
  await page
    .waitForFunction(() => {
      const viewers = document.querySelector('knee-app')?.shadowRoot?.querySelectorAll('radiograph-viewer') ?? [];
      return viewers.length === 2 && [...viewers].every((v) => (v.shadowRoot?.querySelector('img')?.naturalWidth ?? 0) > 0);
    }, undefined, { timeout: 30000 })
    .catch(async (error: Error) => {
      await page.screenshot({ path: path.join(SHOTS, 'failed-viewer.png'), fullPage: true });
      throw new Error(`${error.message}\nbrowser console:\n${consoleLines.join('\n')}`);
    });
  await page.screenshot({ path: path.join(SHOTS, '2-viewer-both-views.png'), fullPage: true });

  const report = await fhirGet<DiagnosticReport>(appContext.diagnosticReport);
  const observations = await Promise.all((report.result ?? []).map((r) => fhirGet<Observation>(r.reference ?? '')));
  const lesions = observations.filter((o) => o.code.coding?.some((c) => c.code === FINDING.lesion.code));
  const ap = await drawnBoxes(page, 'AP');
  const lateral = await drawnBoxes(page, 'Lateral');
  for (const view of [ap, lateral]) expect(view.image).toMatchObject({ naturalWidth: PHANTOM.width, naturalHeight: PHANTOM.height });
  expect(ap.boxes.length + lateral.boxes.length).toBe(lesions.length);
  expect(lesions.length).toBeGreaterThan(0);

  const zoomed = ap.boxes.length > 0 ? 'AP' : 'Lateral';
  const viewport = page.locator(`radiograph-viewer[label="${zoomed}"] .viewport`);
  await viewport.focus();
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await page.keyboard.press('ArrowLeft');
  const after = await drawnBoxes(page, zoomed);
  const image = after.image;
  const box = after.boxes[0];
  if (!image || !box) throw new Error('no image or box after zooming');
  const lesion = lesions.find((o) => o.id === box.id);
  const value = (code: string) => lesion?.component?.find((c) => c.code.coding?.[0]?.code === code)?.valueQuantity?.value ?? NaN;
  const scale = image.width / image.naturalWidth;
  expect(scale).toBeGreaterThan(0.5);
  expect(Math.abs(box.x - (image.x + value('box-x') * scale))).toBeLessThan(1.5);
  expect(Math.abs(box.y - (image.y + value('box-y') * scale))).toBeLessThan(1.5);
  expect(Math.abs(box.width - value('box-width') * scale)).toBeLessThan(1.5);
  expect(Math.abs(box.height - value('box-height') * scale)).toBeLessThan(1.5);
  await page.screenshot({ path: path.join(SHOTS, '3-viewer-zoomed.png'), fullPage: true });

  await page.getByRole('button', { name: 'Disagree' }).click();
  await page.getByText('your feedback was recorded').waitFor();
  await page.screenshot({ path: path.join(SHOTS, '4-feedback-sent.png'), fullPage: true });
  const stored = createFeedbackStore(openDatabase(jobsDb), 'unused').all();
  expect(stored).toEqual([expect.objectContaining({ serviceId: 'knee-tumor-viewer', outcome: 'overridden', overrideReason: 'disagree' })]);

  await page.getByRole('button', { name: '◀ Earlier study' }).click();
  await page.waitForFunction(() => document.querySelector('knee-app')?.shadowRoot?.querySelector('study-panel')?.shadowRoot?.querySelector('select')?.selectedIndex === 1);
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(SHOTS, '5-earlier-study-tablet.png'), fullPage: true });
  await page.close();
}, 120000);

it('says the session has ended instead of a blank page when the viewer is opened without a launch', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/app/index.html`);
  await page.getByRole('alert').getByText('Your session has ended').waitFor();
  await page.screenshot({ path: path.join(SHOTS, '6-session-ended.png') });
  await page.close();
});
