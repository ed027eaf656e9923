/// <reference lib="dom" />
/**
 * The viewer's radiograph in Debian's Chromium: the boxes of a view inside the model's validated
 * domain are drawn and listed; a view outside it draws none (its scores mean nothing) and says why
 * beside the image.
 */
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import type { LesionBox } from '../../client/src/model';
import { bundleForPage, launchChromium } from '../support/browser';

let browser: Browser;
let bundle: string;
let imageUrl: string;

const BOX: LesionBox = { id: 'lesion-1', x: 40, y: 50, width: 60, height: 40, confidence: 0.91, foldsAgreeing: 5, foldCount: 5 };

beforeAll(async () => {
  bundle = await bundleForPage(`import './components/radiograph-viewer';
        window.showView = (props) => { const el = document.createElement('radiograph-viewer'); Object.assign(el, props); document.body.append(el); return el.updateComplete; };`);
  const png = await sharp({ create: { width: 200, height: 160, channels: 3, background: { r: 90, g: 90, b: 90 } } }).png().toBuffer();
  imageUrl = `data:image/png;base64,${png.toString('base64')}`;
  browser = await launchChromium();
}, 60000);
afterAll(() => browser?.close());

async function shown(outsideDomain: boolean): Promise<{ rects: number; list: string }> {
  const page = await browser.newPage({ viewport: { width: 800, height: 700 } });
  await page.setContent('<!doctype html><body style="width:600px"></body>');
  await page.addScriptTag({ content: bundle, type: 'module' });
  await page.waitForFunction(() => 'showView' in window);
  await page.evaluate(
    (props) => (window as unknown as { showView(p: unknown): Promise<boolean> }).showView(props),
    { label: 'AP', src: imageUrl, boxes: [BOX], operatingThreshold: 0.49, outsideDomain },
  );
  // Boxes are drawn once the image has loaded and the viewport is measured.
  await page.waitForFunction(() => {
    const root = document.querySelector('radiograph-viewer')?.shadowRoot;
    return (root?.querySelector('img') as HTMLImageElement | null)?.complete === true;
  });
  await page.waitForTimeout(200);
  const result = await page.evaluate(() => {
    const root = document.querySelector('radiograph-viewer')?.shadowRoot;
    return { rects: root?.querySelectorAll('svg.overlay rect').length ?? -1, list: root?.querySelector('ol')?.textContent ?? '' };
  });
  await page.close();
  return result;
}

it('draws and lists the boxes of a view inside the validated domain', async () => {
  const { rects, list } = await shown(false);
  expect(rects).toBeGreaterThan(0);
  expect(list).toContain('confidence 0.91, 5 of 5 models agree');
});

it('draws no box on a view outside the validated domain and says why', async () => {
  const { rects, list } = await shown(true);
  expect(rects).toBe(0);
  expect(list).toContain("No AI boxes: this view is outside the model's validated domain.");
  expect(list).not.toContain('confidence 0.91');
});
