// Runs an ensemble (five folds, TTA, as an analysis runs it) on every radiograph of a reference set
// and writes the box predictions `knee-tumor evaluate --pred` reads. For sets whose images are not
// DICOM studies `knee-tumor analyze` can fetch: an imported JPEG/PNG set (its reference.json names
// the training PNGs) or a phantom set (DICOM files, converted as an analysis converts them).
// Usage (after npm run build):
//   node models/training/predict-set.js --manifest M.json --reference SET/reference.json --out predictions.json
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const dist = path.resolve(__dirname, '../../dist/server/src');
const { loadManifest } = require(`${dist}/model/manifest`);
const { EnsembleDetector } = require(`${dist}/pipeline/detect`);
const { decodeForDetector } = require(`${dist}/pipeline/fetch-images`);
const { decodePicture, PICTURE_EXTENSIONS } = require(`${dist}/training-set/picture`);

async function decode(file) {
  if (PICTURE_EXTENSIONS.includes(path.extname(file).toLowerCase())) return decodePicture(file);
  return decodeForDetector(new Uint8Array(fs.readFileSync(file)));
}

async function main() {
  const { values } = parseArgs({ options: { manifest: { type: 'string' }, reference: { type: 'string' }, out: { type: 'string' } } });
  if (!values.manifest || !values.reference || !values.out) throw new Error('usage: predict-set.js --manifest M.json --reference reference.json --out predictions.json');
  const model = await loadManifest(values.manifest);
  const reference = JSON.parse(fs.readFileSync(values.reference, 'utf8'));
  const base = path.dirname(path.resolve(values.reference));
  const detector = await EnsembleDetector.load(model, { executionProvider: 'cpu', cpuThreads: 1, warn: (m) => process.stderr.write(`${m}\n`) });
  const images = [];
  for (const [index, patient] of reference.patients.entries()) {
    for (const image of patient.images) {
      if (!image.file) throw new Error(`image ${index}.${image.view} of ${values.reference} names no file`);
      const [boxes] = await detector.detect([await decode(path.resolve(base, image.file))]);
      images.push({ imageId: image.imageId, boxes: boxes.map(({ x, y, width, height, confidence }) => ({ x, y, width, height, confidence })) });
    }
    if ((index + 1) % 25 === 0) process.stderr.write(`${index + 1}/${reference.patients.length} patients\n`);
  }
  await detector.release();
  const predictions = { kind: 'knee-tumor-predictions', operatingThreshold: model.manifest.operatingThreshold, images };
  fs.writeFileSync(values.out, `${JSON.stringify(predictions)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
