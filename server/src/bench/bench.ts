/**
 * `npm run bench`: how long the method takes on this machine, for each execution provider
 * present. Prints the median of several runs: one network pass per TTA shape, one view (5 folds x
 * 3 passes, pre- and post-processing included), one patient (both views, batched per pass), the
 * conversion of a 1760 x 1760 JPEG 2000 radiograph, and the peak resident memory. With
 * `--threading`, the patient time for each CPU threading variant instead.
 * Speed goals live here, not in the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MANIFEST, ModelConfigSchema } from '../config';
import type { Gray8Image } from '../imaging/gray8';
import { loadManifest, type LoadedManifest } from '../model/manifest';
import { EnsembleDetector, type DetectTiming, type ExecutionProvider } from '../pipeline/detect';
import { passShape } from '../pipeline/letterbox';
import { decodeForDetector } from '../pipeline/fetch-images';
import { median, syntheticView, timeRuns } from './timing';

const DEFAULT_JPEG2000 = path.resolve(__dirname, '../../../..', '../shared/data/dicom/RG3_J2KR.dcm');

function row(label: string, ms: number, detail = ''): string {
  return `  ${label.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms${detail ? `   ${detail}` : ''}`;
}

async function benchProvider(model: LoadedManifest, provider: ExecutionProvider, runs: number, views: Gray8Image[]): Promise<void> {
  let fellBack = '';
  const detector = await EnsembleDetector.load(model, { ...ModelConfigSchema.parse({}), executionProvider: provider, warn: (m) => (fellBack = m) });
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

interface Threading {
  cpuThreads: number;
  cpuSpinning: boolean;
  parallelFolds: boolean;
}

/** Every combination the sweep times; onnxruntime's own default (0 threads, spinning, folds in turn) first. */
function threadingVariants(): Threading[] {
  const variants: Threading[] = [];
  for (const cpuThreads of [0, 1, 2]) {
    for (const cpuSpinning of [true, false]) {
      for (const parallelFolds of [false, true]) variants.push({ cpuThreads, cpuSpinning, parallelFolds });
    }
  }
  return variants;
}

/**
 * `--threading`: the patient time on the CPU for each threading variant, in rounds (every variant
 * once per round, after one warm-up each) so that load from other processes falls on all of them
 * alike; prints the median per variant, fastest first, and the configured default's place.
 */
async function benchThreading(model: LoadedManifest, runs: number, views: Gray8Image[]): Promise<void> {
  const variants = threadingVariants();
  const defaults = ModelConfigSchema.parse({});
  const detectors = [];
  for (const variant of variants) {
    const detector = await EnsembleDetector.load(model, { executionProvider: 'cpu', ...variant, warn: () => undefined });
    await detector.detect(views);
    detectors.push(detector);
  }
  const times: number[][] = variants.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, detector] of detectors.entries()) {
      const t0 = performance.now();
      await detector.detect(views);
      times[i]?.push(performance.now() - t0);
    }
  }
  await Promise.all(detectors.map((d) => d.release()));
  const rows = variants.map((variant, i) => ({ variant, ms: median(times[i] ?? []), min: Math.min(...(times[i] ?? [])) }));
  rows.sort((a, b) => a.ms - b.ms);
  const isDefault = (v: Threading) => v.cpuThreads === defaults.cpuThreads && v.cpuSpinning === defaults.cpuSpinning && v.parallelFolds === defaults.parallelFolds;
  const isOrtDefault = (v: Threading) => v.cpuThreads === 0 && v.cpuSpinning && !v.parallelFolds;
  console.log(`\nCPU threading, patient (${views.length} views, ${model.folds.length} folds x ${model.manifest.tta.passes.length} passes), ${os.cpus().length} CPUs, median and min of ${runs} rounds`);
  console.log(`  ${'intra-op threads'.padEnd(17)} ${'spinning'.padEnd(9)} ${'folds'.padEnd(11)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)}`);
  for (const { variant, ms, min } of rows) {
    const note = [isDefault(variant) ? 'configured default' : '', isOrtDefault(variant) ? "onnxruntime's default" : ''].filter(Boolean).join(', ');
    console.log(
      `  ${String(variant.cpuThreads === 0 ? '0 (all cores)' : variant.cpuThreads).padEnd(17)} ${(variant.cpuSpinning ? 'on' : 'off').padEnd(9)} ` +
        `${(variant.parallelFolds ? 'parallel' : 'in turn').padEnd(11)} ${ms.toFixed(1).padStart(10)} ${min.toFixed(1).padStart(8)}${note ? `   ${note}` : ''}`,
    );
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
      threading: { type: 'boolean', default: false },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  console.log(`knee-tumor benchmark: median of ${runs} runs after one warm-up; node ${process.version}, onnxruntime-node ${ort.env.versions.node}`);
  if (values.threading) {
    await benchThreading(await loadManifest(values.model), runs, [syntheticView(2048, 2500, 1), syntheticView(2048, 2500, 2)]);
    return;
  }
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
