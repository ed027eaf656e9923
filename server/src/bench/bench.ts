/**
 * `npm run bench`: how long the method takes on this machine, for each execution provider
 * present. Prints the median of several runs: one network pass per TTA shape, one view (5 folds x
 * 3 passes, pre- and post-processing included), one patient (both views, batched per pass), the
 * conversion of a 1760 x 1760 JPEG 2000 radiograph, and the peak resident memory.
 * Speed goals live here, not in the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MANIFEST } from '../config';
import type { Gray8Image } from '../imaging/gray8';
import { loadManifest, type LoadedManifest } from '../model/manifest';
import { EnsembleDetector, type DetectTiming, type ExecutionProvider } from '../pipeline/detect';
import { passShape } from '../pipeline/letterbox';
import { decodeForDetector } from '../pipeline/fetch-images';
import { syntheticView, timeRuns } from './timing';

const DEFAULT_JPEG2000 = path.resolve(__dirname, '../../../..', '../shared/data/dicom/RG3_J2KR.dcm');

function row(label: string, ms: number, detail = ''): string {
  return `  ${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms${detail ? `   ${detail}` : ''}`;
}

async function benchProvider(model: LoadedManifest, provider: ExecutionProvider, runs: number, views: Gray8Image[]): Promise<void> {
  let fellBack = '';
  const detector = await EnsembleDetector.load(model, { executionProvider: provider, cpuThreads: 0, warn: (m) => (fellBack = m) });
  try {
    if (fellBack) {
      console.log(`\n${provider}: not available (${fellBack})`);
      return;
    }
    const { manifest } = model;
    console.log(`\n${provider} execution provider, ${model.folds.length} folds, input ${manifest.input.size} x ${manifest.input.size}, ${manifest.precision}`);
    const firstFold = model.folds[0];
    if (firstFold) {
      const session = await ort.InferenceSession.create(firstFold.bytes, { executionProviders: [provider] });
      for (const pass of manifest.tta.passes) {
        for (const batch of [1, views.length]) {
          const { width, height } = passShape(manifest.input.size, pass, manifest.tta.gridStride);
          const input = new ort.Tensor('float32', new Float32Array(batch * 3 * width * height).fill(0.3), [batch, 3, height, width]);
          const ms = await timeRuns(runs, () => session.run({ [manifest.input.name]: input }));
          console.log(row(`pass scale ${pass.scale}${pass.flipLeftRight ? ' flipped' : ''}, ${width} x ${height}, batch ${batch}`, ms, `${(ms / batch).toFixed(1)} ms per image`));
        }
      }
      await session.release();
    }
    const oneView = views.slice(0, 1);
    console.log(row(`view (${model.folds.length} folds x ${manifest.tta.passes.length} passes)`, await timeRuns(runs, () => detector.detect(oneView))));
    const timing: DetectTiming = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0, runs: [] };
    const patientMs = await timeRuns(runs, () => detector.detect(views));
    await detector.detect(views, timing);
    console.log(
      row(
        `patient (${views.length} views, ${timing.runs.length} runs of batch ${views.length})`,
        patientMs,
        `last run: pre ${timing.preprocessMs.toFixed(0)} ms, inference ${timing.inferenceMs.toFixed(0)} ms, post ${timing.postprocessMs.toFixed(0)} ms`,
      ),
    );
  } finally {
    await detector.release();
  }
}

export async function bench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: DEFAULT_MANIFEST },
      runs: { type: 'string', default: '5' },
      providers: { type: 'string', default: 'cpu,webgpu' },
      image: { type: 'string', default: DEFAULT_JPEG2000 },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  console.log(`knee-tumor benchmark: median of ${runs} runs after one warm-up; node ${process.version}, onnxruntime-node ${ort.env.versions.node}`);
  if (existsSync(values.image)) {
    const bytes = new Uint8Array(readFileSync(values.image));
    const image = await decodeForDetector(bytes);
    const ms = await timeRuns(runs, () => decodeForDetector(bytes));
    console.log(`\nconversion (parse, decode, LUTs, 8-bit)\n${row(`${path.basename(values.image)}, ${image.width} x ${image.height}`, ms)}`);
  } else {
    console.log(`\nconversion: skipped, ${values.image} not found (pass --image <file.dcm>)`);
  }
  const model = await loadManifest(values.model);
  console.log(`\nmodel ${model.identity.name} ${model.identity.version} (${values.model})`);
  const views = [syntheticView(2048, 2500, 1), syntheticView(2048, 2500, 2)];
  for (const provider of values.providers.split(',') as ExecutionProvider[]) await benchProvider(model, provider, runs, views);
  console.log(`\npeak resident memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

bench(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
