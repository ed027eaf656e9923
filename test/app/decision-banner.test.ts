/// <reference lib="dom" />
/**
 * The viewer's decision banner in Debian's Chromium, fed what the viewer reads from FHIR: the
 * report and Observations the service writes (toFhirTransaction), read back with the viewer's own
 * reader. A demonstration model's result says first that it was trained on synthetic images and
 * is not styled as an alert; a clinical-evaluation model's positive is; a result withheld because
 * a view is outside the model's validated domain says so, and why, and is not styled as an alert.
 */
import type { DiagnosticReport, FhirResource, Observation } from 'fhir/r4';
import type { Browser, Page } from 'playwright-core';
import { toStudyResult } from '../../client/src/fhir-mapping';
import type { StudyResult } from '../../client/src/model';
import { DEMONSTRATION_MODEL_NOTICE, type AnalysisResult } from '../../server/src/domain/analysis';
import { OUTSIDE_DOMAIN_MEANING } from '../../server/src/domain/wording';
import { decidePatient, decideView } from '../../server/src/pipeline/decide';
import { toFhirTransaction } from '../../server/src/results/fhir/to-fhir';
import { DEMONSTRATION_MODEL, sampleAnalysis } from '../support/analysis-fixture';
import { bundleForPage, launchChromium } from '../support/browser';

let browser: Browser;
let bundle: string;

beforeAll(async () => {
  bundle = await bundleForPage(`import './components/decision-banner';
        window.showResult = (result) => { const el = document.createElement('decision-banner'); el.result = result; document.body.append(el); return el.updateComplete; };`);
  browser = await launchChromium();
}, 60000);
afterAll(() => browser?.close());

/** The analysis as the FHIR server stores it (ids given, references resolved), read back as the viewer does. */
function storedResult(analysis: AnalysisResult): StudyResult {
  const entries = toFhirTransaction(analysis, { patient: 'Patient/p', imagingStudy: 'ImagingStudy/s', started: '2026-11-28T10:00:00Z' }).entry ?? [];
  const ids = new Map(entries.map((e, i) => [e.fullUrl, `${e.resource?.resourceType}/r${i}`]));
  const resources = entries.map((e, i) => ({ ...e.resource, id: `r${i}` }) as FhirResource);
  const report = resources.find((r) => r.resourceType === 'DiagnosticReport') as DiagnosticReport;
  report.result = (report.result ?? []).map((r) => ({ reference: ids.get(r.reference) }));
  return toStudyResult(report, resources.filter((r): r is Observation => r.resourceType === 'Observation'));
}

async function banner(result: StudyResult): Promise<{ page: Page; text: string; style: string; note: string | undefined }> {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><body></body>');
  await page.addScriptTag({ content: bundle, type: 'module' });
  await page.waitForFunction(() => 'showResult' in window);
  await page.evaluate((r) => (window as unknown as { showResult(r: unknown): Promise<boolean> }).showResult(r), result);
  const shown = await page.evaluate(() => {
    const root = document.querySelector('decision-banner')?.shadowRoot;
    return { text: root?.textContent ?? '', style: root?.querySelector('section')?.className ?? '', note: root?.querySelector('[role="note"]')?.textContent ?? undefined };
  });
  return { page, ...shown };
}

it('a demonstration model: the synthetic-images notice first, no alert styling, the finding with side and view', async () => {
  const { page, text, style, note } = await banner(storedResult(sampleAnalysis({ model: DEMONSTRATION_MODEL })));
  expect(note).toBe(DEMONSTRATION_MODEL_NOTICE);
  expect(style).toBe('demonstration');
  expect(text).toContain('Demonstration model: possible bone tumor');
  expect(text).toContain("Possible bone tumor on the left knee: the AI's confidence 0.93 on the lateral view");
  expect(text).toContain('not a probability of cancer');
  expect(text.split(DEMONSTRATION_MODEL_NOTICE)).toHaveLength(2);
  await page.close();
});

it('a clinical-evaluation model: a positive is styled as a finding and says nothing of synthetic images', async () => {
  const { page, text, style, note } = await banner(storedResult(sampleAnalysis()));
  expect(note).toBeUndefined();
  expect(style).toBe('positive');
  expect(text).toContain('⚠ AI finding: possible bone tumor');
  expect(text).not.toMatch(/synthetic/);
  await page.close();
});

it('a view outside the validated domain: no result, the reason named, no alert styling', async () => {
  const base = sampleAnalysis();
  // The fixture's lateral view (a 0.93 box) lies beyond the model's domain limit.
  const views = base.views.map((v) =>
    decideView({ ...v, domain: { distance: v.view === 'LATERAL' ? 48.7 : 6.1, threshold: 14.2, outside: v.view === 'LATERAL' } }, base.operatingThreshold),
  );
  const { page, text, style, note } = await banner(storedResult({ ...base, views, patient: decidePatient(views) }));
  expect(style).toBe('negative');
  expect(text).toContain('∅ AI finding: no result, outside the validated domain');
  expect(text).toContain("No AI result for the left knee radiographs: the lateral view is outside the model's validated domain");
  expect(note).toBe(OUTSIDE_DOMAIN_MEANING);
  expect(text).not.toContain('possible bone tumor');
  expect(text).not.toContain('not a probability of cancer');
  await page.close();
});
