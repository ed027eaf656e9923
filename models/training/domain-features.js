// Pooled features (identity pass, every fold) and, optionally, the ensemble's TTA view scores of
// a phantom set, a training set's reference (PNG images) or single DICOM files, converted exactly as an analysis converts them. The
// measurements behind the out-of-domain statistics and the operating point (measure_domain.py).
// Usage (after npm run build):
//   node models/training/domain-features.js --manifest M.json --features-folds DIR --out F.jsonl [--scores] (--set PHANTOM_DIR | FILE.dcm ...)
// --features-folds: fold*.onnx with features outputs (add_domain_output.py); every output named
// "features" or "features.<layer>" is written, per fold. --scores also runs the manifest's
// ensemble with TTA and writes each view's score (its highest box confidence).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const ort = require('onnxruntime-node');
const dist = path.resolve(__dirname, '../../dist/server/src');
const { loadManifest } = require(`${dist}/model/manifest`);
const { EnsembleDetector, passTensor } = require(`${dist}/pipeline/detect`);
const { decodeForDetector } = require(`${dist}/pipeline/fetch-images`);
const { decodePicture, PICTURE_EXTENSIONS } = require(`${dist}/training-set/picture`);
const { letterbox } = require(`${dist}/pipeline/letterbox`);
const { viewScore } = require(`${dist}/pipeline/decide`);

/** A view's pixels as the detector gets them: a DICOM file converted as an analysis converts it, a JPEG/PNG training image as the training set holds it. */
function decodeView(file) {
  if (PICTURE_EXTENSIONS.includes(path.extname(file).toLowerCase())) return decodePicture(file);
  return fs.promises.readFile(file).then((bytes) => decodeForDetector(new Uint8Array(bytes)));
}

/** Patients of a phantom set as { patientId, tumor, views: [{ view, file }] }, or one "patient" per file. */
function studies(values, set) {
  if (!set) return values.map((file) => ({ patientId: path.basename(file), tumor: null, views: [{ view: null, file }] }));
  const reference = JSON.parse(fs.readFileSync(path.join(set, 'reference.json'), 'utf8'));
  return reference.patients.map((p) => ({
    patientId: p.patientId,
    tumor: p.tumor,
    views: p.images.map((image) => ({ view: image.view, file: path.join(set, image.file) })),
  }));
}

async function main() {
  const { values, positionals } = parseArgs({
    options: { manifest: { type: 'string' }, 'features-folds': { type: 'string' }, out: { type: 'string' }, scores: { type: 'boolean' }, set: { type: 'string' } },
    allowPositionals: true,
  });
  const model = await loadManifest(values.manifest);
  const { manifest } = model;
  const featureFiles = fs.readdirSync(values['features-folds']).filter((f) => /^fold\d+\.onnx$/.test(f)).sort();
  const sessions = [];
  for (const file of featureFiles) sessions.push(await ort.InferenceSession.create(path.join(values['features-folds'], file), { executionProviders: ['cpu'], intraOpNumThreads: 1 }));
  const featureOutputs = sessions[0].outputNames.filter((n) => n === 'features' || n.startsWith('features.'));
  const detector = values.scores ? await EnsembleDetector.load(model, { executionProvider: 'cpu', cpuThreads: 1, warn: (m) => process.stderr.write(`${m}\n`) }) : undefined;
  const out = fs.openSync(values.out, 'w');
  const list = studies(positionals, values.set);
  for (const [index, study] of list.entries()) {
    let images;
    try {
      images = await Promise.all(study.views.map((v) => decodeView(v.file)));
    } catch (error) {
      // A file the pipeline refuses (a CT slice, an unreadable file) never reaches the detector.
      if (values.set) throw error;
      process.stderr.write(`${study.patientId}: not measured, the pipeline refuses it: ${error.message}\n`);
      continue;
    }
    const boxed = await Promise.all(images.map((image) => letterbox(image, manifest.input.size, manifest.input.letterboxPadValue)));
    const input = await passTensor(manifest, boxed, manifest.tta.passes[0]);
    const perFold = [];
    for (const session of sessions) perFold.push(await session.run({ [manifest.input.name]: input }, featureOutputs));
    const boxes = detector ? await detector.detect(images) : undefined;
    study.views.forEach((v, b) => {
      const features = {};
      for (const name of featureOutputs) {
        features[name === 'features' ? 'features' : name.slice('features.'.length)] = perFold.map((outputs) => {
          const tensor = outputs[name];
          const channels = tensor.dims[1];
          return Array.from(tensor.data.subarray(b * channels, (b + 1) * channels), (x) => Number(x.toPrecision(6)));
        });
      }
      const row = { patientId: study.patientId, tumor: study.tumor, view: v.view, file: path.basename(v.file), features };
      if (boxes) row.score = viewScore(boxes[b]);
      fs.writeSync(out, `${JSON.stringify(row)}\n`);
    });
    if ((index + 1) % 25 === 0) process.stderr.write(`${index + 1}/${list.length}\n`);
  }
  fs.closeSync(out);
  await detector?.release();
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
