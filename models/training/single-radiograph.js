// The method reads two views per patient; the model card also reports what the ensemble does on
// one real radiograph (RG3 of ../shared/data/dicom: a non-ossifying fibroma of the distal tibia,
// one AP view). This converts the file exactly as an analysis does, runs the five folds with TTA
// and prints the boxes, the view's domain distance and its decision at the manifest's operating
// threshold (never positive outside the model's validated domain).
// Usage (after npm run build): node models/training/single-radiograph.js <manifest.json> <file.dcm>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dist = path.resolve(__dirname, '../../dist/server/src');
const { loadManifest } = require(`${dist}/model/manifest`);
const { EnsembleDetector } = require(`${dist}/pipeline/detect`);
const { decodeForDetector } = require(`${dist}/pipeline/fetch-images`);
const { viewScore } = require(`${dist}/pipeline/decide`);

async function main() {
  const [manifestPath, file] = process.argv.slice(2);
  if (!file) throw new Error('usage: node single-radiograph.js <manifest.json> <file.dcm>');
  const model = await loadManifest(manifestPath);
  const detector = await EnsembleDetector.load(model, { executionProvider: 'cpu', cpuThreads: 1, warn: (m) => process.stderr.write(`${m}\n`) });
  const image = await decodeForDetector(new Uint8Array(fs.readFileSync(file)));
  const [{ boxes, domain }] = await detector.detectViews([image]);
  await detector.release();
  const threshold = model.manifest.operatingThreshold;
  const score = viewScore(boxes);
  // A view outside the model's validated domain is never positive (pipeline/decide.ts).
  const positive = score >= threshold && !domain?.outside;
  const summary = { file: path.basename(file), width: image.width, height: image.height, operatingThreshold: threshold, score, positive, domain: domain ?? 'not checked', boxes: boxes.slice(0, 5) };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
