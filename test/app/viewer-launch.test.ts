/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The whole chain a clinician goes through, with real components: the demo (FHIR engine, OAuth 2
 * server with PKCE, CDS service, viewer, a real Orthanc with phantom studies analysed by the test
 * detector) started as `npm run demo` starts it, and Debian's Chromium. From the chart's card to
 * the viewer by EHR launch, then what a person sees: both images, one box per lesion Observation
 * at or above the operating threshold, a box still on its image pixels after zooming, feedback
 * stored by the service, and a report crowded with sub-threshold boxes that do not bury the finding.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bundle, DiagnosticReport, Observation } from 'fhir/r4';
import type { Browser, Page } from 'playwright-core';
import { createFeedbackStore } from '../../server/src/jobs/sqlite/feedback-store';
import { FINDING } from '../../fhir-profiles/codes';
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import { DEFAULT_OPTIONS } from '../../models/phantoms/generate';
import type { LesionBox } from '../../server/src/domain/analysis';
import { toFhirTransaction } from '../../server/src/results/fhir/to-fhir';
import { sampleAnalysis } from '../support/analysis-fixture';
import { startDemo, type RunningDemo } from '../support/demo';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';
import { launchChromium } from '../support/browser';

const repo = path.resolve(__dirname, '../..');
const SHOTS = path.join(repo, 'test-output/app');
/** The demo's phantoms have the generator's default size (server/src/demo/sample-data.ts): the PNG must be exactly that. */
const PHANTOM = { width: DEFAULT_OPTIONS.width, height: DEFAULT_OPTIONS.height };

let demo: RunningDemo | undefined;
let base: string;
let jobsDb: string;
let browser: Browser;

beforeAll(async () => {
  jobsDb = path.join(mkdtempSync(path.join(os.tmpdir(), 'viewer-test-')), 'jobs.sqlite');
  demo = await startDemo({ model: TEST_DETECTOR_MANIFEST, jobsDb });
  base = demo.base;
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
}, 180000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

async function fhirGet<T>(url: string): Promise<T> {
  const response = await fetch(`${base}/fhir/${url}`);
  return (await response.json()) as T;
}

type ScreenRect = { x: number; y: number; width: number; height: number };

/** Each drawn box and label: its Observation id and where it and the image are on the screen, in drawing order. */
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
      boxes: [...(root?.querySelectorAll('g.box') ?? [])].map((g) => ({
        id: g.getAttribute('data-box-id') ?? '',
        finding: g.getAttribute('data-finding') === 'true',
        ...rect(g.querySelector('rect.outline') as Element),
      })),
      labels: [...(root?.querySelectorAll('g.label') ?? [])].map((g) => ({
        id: g.getAttribute('data-box-id') ?? '',
        finding: g.getAttribute('data-finding') === 'true',
        text: g.textContent?.trim() ?? '',
        ...rect(g),
        textRect: rect(g.querySelector('text') as Element),
      })),
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
  // The service's Content-Security-Policy lets the app load and talk to the EHR: nothing was blocked.
  expect(consoleLines.filter((line) => /Content Security Policy/i.test(line))).toEqual([]);

  const report = await fhirGet<DiagnosticReport>(appContext.diagnosticReport);
  const observations = await Promise.all((report.result ?? []).map((r) => fhirGet<Observation>(r.reference ?? '')));
  const lesions = observations.filter((o) => o.code.coding?.some((c) => c.code === FINDING.lesion.code));
  const threshold = observations
    .find((o) => o.code.coding?.some((c) => c.code === FINDING.patient.code))
    ?.component?.find((c) => c.code.coding?.some((x) => x.code === FINDING.threshold.code))?.valueQuantity?.value;
  if (threshold === undefined) throw new Error('the report has no operating threshold');
  const ap = await drawnBoxes(page, 'AP');
  const lateral = await drawnBoxes(page, 'Lateral');
  for (const view of [ap, lateral]) expect(view.image).toMatchObject({ naturalWidth: PHANTOM.width, naturalHeight: PHANTOM.height });
  expect(ap.boxes.length + lateral.boxes.length).toBe(lesions.filter((o) => (o.valueQuantity?.value ?? 0) >= threshold).length);
  expect(ap.boxes.length + lateral.boxes.length).toBeGreaterThan(0);

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
  const stored = await createFeedbackStore(openDatabase(jobsDb), 'unused').all();
  expect(stored).toEqual([expect.objectContaining({ serviceId: 'knee-tumor-viewer', outcome: 'overridden', overrideReason: 'disagree' })]);

  await page.getByRole('button', { name: '◀ Earlier study' }).click();
  await page.waitForFunction(() => document.querySelector('knee-app')?.shadowRoot?.querySelector('study-panel')?.shadowRoot?.querySelector('select')?.selectedIndex === 1);
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(SHOTS, '5-earlier-study-tablet.png'), fullPage: true });
  await page.close();
}, 120000);

const overlapping = (a: ScreenRect, b: ScreenRect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The finding's label: shown, its text inside it, and clear of every other label. */
function expectFindingLabelClear(labels: Awaited<ReturnType<typeof drawnBoxes>>['labels']): void {
  const finding = labels.filter((l) => l.finding);
  expect(finding).toHaveLength(1);
  const label = finding[0]!;
  expect(label.textRect.x).toBeGreaterThanOrEqual(label.x);
  expect(label.textRect.x + label.textRect.width).toBeLessThanOrEqual(label.x + label.width + 0.5);
  for (const other of labels.filter((l) => !l.finding)) expect(overlapping(label, other)).toBe(false);
  // The finding's label is drawn last, on top.
  expect(labels[labels.length - 1]?.finding).toBe(true);
}

it('shows the finding alone by default, with a readable label, and the boxes below the threshold on request', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/ehr`);
  await page.getByRole('link', { name: 'Mia Jensen' }).click();
  const cardLink = page.getByRole('link', { name: 'Open the radiographs with the AI boxes' }).first();
  await cardLink.waitFor();
  const appContext = JSON.parse(new URL(await cardLink.getAttribute('href') ?? '', base).searchParams.get('appContext') ?? '{}') as {
    studyInstanceUid: string;
    imagingStudy: string;
    diagnosticReport: string;
  };

  // A newer report of the same study, from another model version: one finding crowded by boxes below the threshold.
  const current = await fhirGet<DiagnosticReport>(appContext.diagnosticReport);
  const viewObservations = await Promise.all((current.result ?? []).map((r) => fhirGet<Observation>(r.reference ?? '')));
  const sopOf = (view: string) =>
    viewObservations
      .find((o) => o.code.coding?.some((c) => c.code === FINDING.view.code) && o.component?.some((c) => c.valueCodeableConcept?.coding?.some((x) => x.code === view)))
      ?.component?.find((c) => c.code.coding?.some((x) => x.code === FINDING.imageRegion.code))
      ?.valueString?.replace(/^urn:oid:/, '');
  const lesion = (x: number, y: number, width: number, height: number, confidence: number): LesionBox => ({ x, y, width, height, confidence, foldsAgreeing: 2, foldCount: 5 });
  const finding = lesion(420, 560, 260, 220, 0.91);
  const apBoxes = [
    finding,
    lesion(640, 300, 200, 160, 0.64),
    lesion(410, 545, 250, 240, 0.43),
    lesion(440, 580, 280, 200, 0.38),
    lesion(400, 520, 240, 230, 0.31),
    lesion(430, 600, 230, 190, 0.27),
    lesion(100, 1100, 180, 150, 0.22),
  ];
  const analysis = sampleAnalysis({ studyInstanceUid: appContext.studyInstanceUid });
  const [apView, lateralView] = analysis.views;
  if (!apView || !lateralView) throw new Error('the fixture has no views');
  const crowded = {
    ...analysis,
    model: { ...analysis.model, version: 'viewer-crowd-test' },
    analysedAt: new Date().toISOString(),
    views: [
      { ...apView, instance: { ...apView.instance, sopInstanceUid: sopOf('AP') ?? '' }, imageSize: PHANTOM, boxes: apBoxes, score: 0.91, positive: true },
      { ...lateralView, instance: { ...lateralView.instance, sopInstanceUid: sopOf('LATERAL') ?? '' }, imageSize: PHANTOM, boxes: [lesion(300, 400, 150, 120, 0.35)], score: 0.35, positive: false },
    ],
    patient: { score: 0.91, positive: true },
  };
  const written = await fetch(`${base}/fhir`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/fhir+json' },
    body: JSON.stringify(toFhirTransaction(crowded, { patient: current.subject?.reference ?? '', imagingStudy: appContext.imagingStudy })),
  });
  expect(written.ok).toBe(true);
  expect(((await written.json()) as Bundle).entry?.every((e) => e.response?.status?.startsWith('201'))).toBe(true);

  await cardLink.click();
  await page.waitForURL(/\/app\/index\.html/);
  await page.waitForFunction(() => {
    const viewers = [...(document.querySelector('knee-app')?.shadowRoot?.querySelectorAll('radiograph-viewer') ?? [])];
    const loaded = viewers.length === 2 && viewers.every((v) => (v.shadowRoot?.querySelector('img')?.naturalWidth ?? 0) > 0);
    return loaded && viewers.some((v) => v.shadowRoot?.querySelector('g.box'));
  }, undefined, { timeout: 30000 });
  await page.screenshot({ path: path.join(SHOTS, '7-crowded-report-default.png'), fullPage: true });

  const byDefault = await drawnBoxes(page, 'AP');
  expect(byDefault.boxes.map((b) => b.finding)).toEqual([false, true]);
  expect(byDefault.labels.map((l) => l.text)).toEqual(['2: 0.64, 2/5', '1: 0.91, 2/5']);
  expectFindingLabelClear(byDefault.labels);
  const lateralDefault = await drawnBoxes(page, 'Lateral');
  expect(lateralDefault.boxes).toEqual([]);

  const toggle = page.getByRole('checkbox', { name: 'Show boxes below the threshold (6)' });
  expect(await toggle.isChecked()).toBe(false);
  await toggle.focus();
  await page.keyboard.press('Space');
  await page.waitForFunction(() => {
    const viewer = document.querySelector('knee-app')?.shadowRoot?.querySelector('radiograph-viewer[label="AP"]');
    return viewer?.shadowRoot?.querySelectorAll('g.box').length === 7;
  });
  await page.screenshot({ path: path.join(SHOTS, '8-crowded-report-all-boxes.png'), fullPage: true });
  const all = await drawnBoxes(page, 'AP');
  // Drawn least important first, so the finding's outline ends on top.
  expect(all.boxes[all.boxes.length - 1]?.finding).toBe(true);
  expect(all.boxes.filter((b) => b.finding)).toHaveLength(1);
  expectFindingLabelClear(all.labels);
  expect(all.labels.length).toBeGreaterThan(byDefault.labels.length);
  all.labels.forEach((a, i) => all.labels.slice(i + 1).forEach((b) => expect(overlapping(a, b)).toBe(false)));
  expect((await drawnBoxes(page, 'Lateral')).boxes).toHaveLength(1);
  await page.close();
}, 120000);

it('says the session has ended instead of a blank page when the viewer is opened without a launch', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/app/index.html`);
  await page.getByRole('alert').getByText('Your session has ended').waitFor();
  await page.screenshot({ path: path.join(SHOTS, '6-session-ended.png') });
  await page.close();
});
