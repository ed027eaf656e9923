/**
 * The GPU benchmark (issue 7), run by scripts/gpu/device-bench.sh on a lent GPU machine or, with
 * --cpu-only, here. Two steps:
 *
 *   gpu-bench run --model fp32/manifest.json --fp16-model fp16/manifest.json \
 *     --merged merged.onnx --merged-fp16 merged.fp16.onnx --providers cpu,webgpu --runs 10 --out ours.json
 *   gpu-bench table --ours ours.json --torch torch.json
 *
 * `run` checks each provider and precision against fp32 on the CPU (the same boxes after NMS,
 * confidences within 1e-2), times the runtime's detect() per view and per patient, and times the
 * network alone under each grouping of a patient's passes that the pass shapes allow, so that the
 * GPU path's batching is picked from measurements. `table` prints one Markdown table with the
 * PyTorch reference that scripts/gpu/torch_reference.py measured.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { LesionBox } from '../domain/analysis';
import type { Gray8Image } from '../imaging/gray8';
import { loadManifest, type LoadedManifest } from '../model/manifest';
import { EnsembleDetector, passTensor, sessionOptions, type ExecutionProvider } from '../pipeline/detect';
import { letterbox } from '../pipeline/letterbox';
import { compareDetections, fastestGroupings, renderTable, type BenchRow, type BoxAgreement, type TorchReference } from './gpu-report';
import { syntheticView, timeRuns } from './timing';

interface Variant {
  precision: 'fp32' | 'fp16';
  model: LoadedManifest;
  /** All folds in one graph (scripts/gpu/fp16_folds.py), or none. */
  mergedPath?: string;
}

/** The ways a patient's passes can be grouped into runs: each pass shape needs its own runs. */
const GROUPINGS = [
  { name: 'image x fold', perImage: true, merged: false },
  { name: 'views x fold', perImage: false, merged: false },
  { name: 'image x merged folds', perImage: true, merged: true },
  { name: 'views x merged folds', perImage: false, merged: true },
] as const;

interface Check extends BoxAgreement {
  candidate: string;
}

/** One input tensor per TTA pass: the views' real pass pixels, one image or all views per batch. */
async function passInputs(model: LoadedManifest, views: Gray8Image[], perImage: boolean): Promise<ort.Tensor[][]> {
  const { manifest } = model;
  const boxed = await Promise.all(views.map((view) => letterbox(view, manifest.input.size, manifest.input.letterboxPadValue)));
  const batches = perImage ? boxed.map((b) => [b]) : [boxed];
  const inputs: ort.Tensor[][] = [];
  for (const pass of manifest.tta.passes) inputs.push(await Promise.all(batches.map((batch) => passTensor(manifest, batch, pass))));
  return inputs;
}

async function timeGroupings(variant: Variant, provider: ExecutionProvider, views: Gray8Image[], runs: number): Promise<BenchRow[]> {
  const { manifest, folds } = variant.model;
  const options = sessionOptions(provider, { threads: 0, spinning: true });
  const perFold = await Promise.all(folds.map((fold) => ort.InferenceSession.create(fold.bytes, options)));
  const merged = variant.mergedPath ? [await ort.InferenceSession.create(variant.mergedPath, options)] : undefined;
  const passes = views.length * folds.length * manifest.tta.passes.length;
  const rows: BenchRow[] = [];
  try {
    for (const grouping of GROUPINGS) {
      const sessions = grouping.merged ? merged : perFold;
      if (!sessions) continue;
      const inputs = await passInputs(variant.model, views, grouping.perImage);
      const patient = async () => {
        for (const tensors of inputs) {
          for (const session of sessions) {
            for (const input of tensors) {
              const output = (await session.run({ [manifest.input.name]: input }))[manifest.output.name];
              // Reading the data is part of the cost: the runtime decodes every row on the CPU.
              if (!output || output.data.length === 0) throw new Error(`${grouping.name}: no ${manifest.output.name}`);
              output.dispose();
            }
          }
        }
      };
      const patientMs = await timeRuns(runs, patient);
      const runsPerPatient = inputs.reduce((n, tensors) => n + tensors.length * sessions.length, 0);
      rows.push({ provider, precision: variant.precision, grouping: grouping.name, runsPerPatient, passMs: patientMs / passes, patientMs, endToEnd: false });
      console.log(`  ${grouping.name}: ${runsPerPatient} runs, ${patientMs.toFixed(1)} ms a patient (network only)`);
      inputs.flat().forEach((t) => t.dispose());
    }
  } finally {
    await Promise.all([...perFold, ...(merged ?? [])].map((s) => s.release()));
  }
  return rows;
}

async function benchVariant(variant: Variant, provider: ExecutionProvider, views: Gray8Image[], runs: number, reference: LesionBox[][]) {
  let fellBack = '';
  const detector = await EnsembleDetector.load(variant.model, { executionProvider: provider, cpuThreads: 0, warn: (m) => (fellBack = m) });
  try {
    if (fellBack) {
      console.log(`${provider} ${variant.precision}: skipped, ${fellBack}`);
      return undefined;
    }
    console.log(`${provider} ${variant.precision}:`);
    const check: Check = { candidate: `${provider} ${variant.precision}`, ...compareDetections(reference, await detector.detect(views)) };
    console.log(`  against cpu fp32: boxes ${JSON.stringify(check.counts)}, min IoU ${check.minIou.toFixed(3)}, max score diff ${check.maxScoreDiff.toExponential(2)}: ${check.agree ? 'same' : 'DIFFERENT'}`);
    const viewMs = await timeRuns(runs, () => detector.detect(views.slice(0, 1)));
    const patientMs = await timeRuns(runs, () => detector.detect(views));
    const passes = views.length * variant.model.folds.length * variant.model.manifest.tta.passes.length;
    const runtimeRow: BenchRow = {
      provider,
      precision: variant.precision,
      grouping: 'views x fold',
      runsPerPatient: variant.model.folds.length * variant.model.manifest.tta.passes.length,
      passMs: patientMs / passes,
      viewMs,
      patientMs,
      endToEnd: true,
    };
    console.log(`  detect(): ${viewMs.toFixed(1)} ms a view, ${patientMs.toFixed(1)} ms a patient`);
    return { check, rows: [runtimeRow, ...(await timeGroupings(variant, provider, views, runs))] };
  } finally {
    await detector.release();
  }
}

async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      'fp16-model': { type: 'string' },
      merged: { type: 'string' },
      'merged-fp16': { type: 'string' },
      providers: { type: 'string', default: 'cpu,webgpu' },
      runs: { type: 'string', default: '10' },
      out: { type: 'string' },
    },
  });
  if (!values.model || !values.out) throw new Error('run needs --model <fp32 manifest> and --out <file.json>');
  const runs = Math.max(1, Number(values.runs));
  const variants: Variant[] = [{ precision: 'fp32', model: await loadManifest(values.model), mergedPath: values.merged }];
  if (values['fp16-model']) variants.push({ precision: 'fp16', model: await loadManifest(values['fp16-model']), mergedPath: values['merged-fp16'] });
  const first = variants[0]!.model;
  console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.node}; model ${first.identity.name} ${first.identity.version}, ${first.folds.length} folds, input ${first.manifest.input.size}; median of ${runs} runs`);

  const views = [syntheticView(2048, 2500, 1), syntheticView(2048, 2500, 2)];
  const cpuFp32 = await EnsembleDetector.load(first, { executionProvider: 'cpu', cpuThreads: 0, warn: () => undefined });
  const reference = await cpuFp32.detect(views);
  await cpuFp32.release();

  const rows: BenchRow[] = [];
  const checks: Check[] = [];
  for (const provider of values.providers.split(',') as ExecutionProvider[]) {
    for (const variant of variants) {
      const result = await benchVariant(variant, provider, views, runs, reference);
      if (!result) break;
      checks.push(result.check);
      rows.push(...result.rows);
    }
  }
  writeFileSync(values.out, `${JSON.stringify({ node: process.version, onnxruntime: ort.env.versions.node, rows, checks }, null, 2)}\n`);
}

function table(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { ours: { type: 'string' }, torch: { type: 'string' } } });
  if (!values.ours) throw new Error('table needs --ours <file.json> [--torch <file.json>]');
  const ours = JSON.parse(readFileSync(values.ours, 'utf8')) as { rows: BenchRow[]; checks: Check[] };
  const reference = values.torch ? (JSON.parse(readFileSync(values.torch, 'utf8')) as TorchReference) : undefined;
  console.log(renderTable(ours.rows, reference));
  console.log('');
  for (const c of ours.checks) console.log(`check ${c.candidate} against cpu fp32: ${c.agree ? 'same boxes, scores within 1e-2' : `DIFFERENT (boxes ${JSON.stringify(c.counts)}, min IoU ${c.minIou.toFixed(3)}, max score diff ${c.maxScoreDiff.toExponential(2)})`}`);
  for (const f of fastestGroupings(ours.rows)) console.log(`fastest grouping, ${f.provider} ${f.precision}: ${f.grouping} (${f.patientMs.toFixed(1)} ms a patient, network only)`);
  if (ours.checks.some((c) => !c.agree)) process.exitCode = 2;
}

const [command, ...rest] = process.argv.slice(2);
(command === 'run' ? run(rest) : command === 'table' ? Promise.resolve(table(rest)) : Promise.reject(new Error('usage: gpu-bench run|table ...'))).catch(
  (error: unknown) => {
    console.error(`gpu-bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
