/**
 * Images → lesion boxes with the method's ensemble: for each view, the letterboxed image goes
 * through every TTA pass of every fold model (views of the same pass shape in one batch), each
 * pass's boxes are de-augmented into original pixels, and all boxes of all folds are merged.
 * The sessions are created once and reused; the runtime does not care which weights it runs.
 */
import * as ort from 'onnxruntime-node';
import { KneeTumorError, messageOf } from '../errors';
import type { DomainCheck, LesionBox, ModelIdentity } from '../domain/analysis';
import type { Gray8Image } from '../imaging/gray8';
import type { ModelConfig } from '../config';
import { loadManifest, type LoadedManifest, type Manifest, type TtaPass } from '../model/manifest';
import { fromFloat16Bits, toFloat16Array } from '../model/float16';
import { foldDistance } from '../model/domain';
import { descalePassBox, imageBox, letterbox, passShape, writePassInput, type Letterbox } from './letterbox';
import { mergeCandidates, type CandidateBox } from './merge-boxes';
import type { NativeCall } from './thread-stop';

export type ExecutionProvider = 'cpu' | 'webgpu';

export interface DetectorOptions {
  executionProvider: ExecutionProvider;
  /** Intra-op threads per session on the CPU (0: onnxruntime's default). */
  cpuThreads: number;
  /** Whether idle intra-op threads spin (onnxruntime's default) instead of sleeping. */
  cpuSpinning?: boolean;
  /** Runs the fold sessions of a pass at the same time instead of one after another. */
  parallelFolds?: boolean;
  /** Overrides the manifest's merge method. */
  merge?: 'nms' | 'wbf';
  /** Where the detector says that it fell back to the CPU; never receives patient data. */
  warn: (message: string) => void;
  /** Runs each onnxruntime call, so that the analysis thread is never ended inside one (thread-stop.ts). */
  nativeCall?: NativeCall;
}

/** What the ensemble says about one image: its boxes and how far it lies from the training domain. */
export interface ViewDetection {
  boxes: LesionBox[];
  /** Absent when the model has no domain statistics. */
  domain?: DomainCheck;
}

/** Time spent in each stage of one detect() call, for the benchmark. */
export interface DetectTiming {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  /** Each network run: fold, pass, batch size and milliseconds. */
  runs: { fold: number; pass: number; batch: number; ms: number }[];
}

interface FoldSession {
  fold: number;
  session: ort.InferenceSession;
}

/** How a CPU session uses the cores: its intra-op threads and whether they spin while idle. */
export interface CpuThreading {
  threads: number;
  spinning: boolean;
}

export function sessionOptions(provider: ExecutionProvider, cpu: CpuThreading): ort.InferenceSession.SessionOptions {
  if (provider !== 'cpu') return { executionProviders: [provider], graphOptimizationLevel: 'all' };
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(cpu.threads > 0 ? { intraOpNumThreads: cpu.threads } : {}),
    // Spinning threads keep the cores busy between runs, which starves the other sessions and
    // the HTTP process on a small machine (see the threading table in the README).
    extra: { session: { intra_op: { allow_spinning: cpu.spinning ? '1' : '0' } } },
  };
}

async function createSessions(model: LoadedManifest, provider: ExecutionProvider, cpu: CpuThreading, nativeCall: NativeCall): Promise<FoldSession[]> {
  const options = sessionOptions(provider, cpu);
  const sessions: FoldSession[] = [];
  for (const fold of model.folds) sessions.push({ fold: fold.fold, session: await nativeCall(() => ort.InferenceSession.create(fold.bytes, options)) });
  return sessions;
}

/** Outside the analysis thread nothing ends a call midway: it runs as it is. */
const unguarded: NativeCall = (call) => call();

/** Element i of an fp32 or fp16 output, as a number. */
function elementReader(tensor: ort.Tensor): (i: number) => number {
  const raw = tensor.data;
  return tensor.type === 'float16' ? (i) => fromFloat16Bits((raw as Uint16Array)[i] ?? 0) : (i) => (raw as Float32Array)[i] ?? 0;
}

/** Row ranges of a YOLOv5 output per detection layer, for a pass input of the given size. */
function layerRows(manifest: Manifest, width: number, height: number): number[] {
  const clip = manifest.tta.clipLayers;
  if (!clip) return [];
  return clip.strides.map((stride) => Math.ceil(height / stride) * Math.ceil(width / stride) * clip.anchorsPerCell);
}

/** One network input for a TTA pass: the letterboxed images of a batch, in the manifest's precision. */
export async function passTensor(manifest: Manifest, letterboxes: Letterbox[], pass: TtaPass): Promise<ort.Tensor> {
  const { width, height } = passShape(manifest.input.size, pass, manifest.tta.gridStride);
  const perImage = 3 * width * height;
  const data = new Float32Array(letterboxes.length * perImage);
  await Promise.all(
    letterboxes.map((boxed, b) => writePassInput(boxed.image, pass, manifest.tta.gridStride, manifest.tta.padValue, data, b * perImage)),
  );
  const dims = [letterboxes.length, 3, height, width];
  return manifest.precision === 'fp16' ? new ort.Tensor('float16', toFloat16Array(data), dims) : new ort.Tensor('float32', data, dims);
}

export class EnsembleDetector {
  private constructor(
    readonly model: LoadedManifest,
    readonly executionProvider: ExecutionProvider,
    private readonly sessions: FoldSession[],
    private readonly merge: 'nms' | 'wbf',
    private readonly parallelFolds: boolean,
    private readonly nativeCall: NativeCall,
  ) {}

  static async load(model: LoadedManifest, options: DetectorOptions): Promise<EnsembleDetector> {
    let provider = options.executionProvider;
    const cpu = { threads: options.cpuThreads, spinning: options.cpuSpinning ?? true };
    const nativeCall = options.nativeCall ?? unguarded;
    let sessions: FoldSession[];
    try {
      sessions = await createSessions(model, provider, cpu, nativeCall);
    } catch (cause) {
      if (provider !== 'webgpu') throw new KneeTumorError('model-invalid', `onnxruntime cannot load the model: ${messageOf(cause)}`, { cause });
      // onnxruntime's message ends with the reason after a source location ("... was false. Failed to get a WebGPU adapter: ...").
      const reason = messageOf(cause).split('\n')[0]?.replace(/^.*\bwas false\.\s*/, '');
      options.warn(`the WebGPU execution provider is not available here (${reason}); running on the CPU`);
      provider = 'cpu';
      sessions = await createSessions(model, provider, cpu, nativeCall);
    }
    const inputName = model.manifest.input.name;
    const outputName = model.manifest.output.name;
    for (const { fold, session } of sessions) {
      if (!session.inputNames.includes(inputName) || !session.outputNames.includes(outputName)) {
        throw new KneeTumorError(
          'model-invalid',
          `fold ${fold} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; the manifest names ${inputName} and ${outputName}`,
        );
      }
      const featuresOutput = model.manifest.domain?.featuresOutput;
      if (featuresOutput && !session.outputNames.includes(featuresOutput)) {
        throw new KneeTumorError('model-invalid', `fold ${fold} has no ${featuresOutput} output, which the manifest's domain check reads`);
      }
    }
    return new EnsembleDetector(model, provider, sessions, options.merge ?? model.manifest.postprocess.merge, options.parallelFolds ?? false, nativeCall);
  }

  /** The ensemble the configuration names, with its provider, threads and merge method. */
  static async fromConfig(config: ModelConfig, warn: (message: string) => void, nativeCall?: NativeCall): Promise<EnsembleDetector> {
    return EnsembleDetector.load(await loadManifest(config.manifestPath), {
      executionProvider: config.executionProvider,
      cpuThreads: config.cpuThreads,
      cpuSpinning: config.cpuSpinning,
      parallelFolds: config.parallelFolds,
      merge: config.merge,
      warn,
      nativeCall,
    });
  }

  get identity(): ModelIdentity {
    return this.model.identity;
  }

  get manifest(): Manifest {
    return this.model.manifest;
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.session.release()));
  }

  /** One list of lesion boxes per image, in that image's pixels. */
  async detect(images: Gray8Image[], timing?: DetectTiming): Promise<LesionBox[][]> {
    return (await this.detectViews(images, timing)).map((v) => v.boxes);
  }

  /** Per image its lesion boxes and, when the model has domain statistics, its domain distance. */
  async detectViews(images: Gray8Image[], timing?: DetectTiming): Promise<ViewDetection[]> {
    const { manifest } = this;
    const domain = this.model.domain;
    const featuresOutput = manifest.domain?.featuresOutput;
    // Per image, the distance of each fold's identity-pass features to that fold's training images.
    const foldDistances: number[][] = images.map(() => []);
    const started = performance.now();
    const letterboxes = await Promise.all(images.map((image) => letterbox(image, manifest.input.size, manifest.input.letterboxPadValue)));
    const candidates: CandidateBox[][] = images.map(() => []);
    let preprocessMs = performance.now() - started;
    let inferenceMs = 0;
    let postprocessMs = 0;
    for (const [passIndex, pass] of manifest.tta.passes.entries()) {
      const t0 = performance.now();
      const input = await passTensor(manifest, letterboxes, pass);
      preprocessMs += performance.now() - t0;
      const withFeatures = passIndex === 0 && domain !== undefined && featuresOutput !== undefined;
      const runFold = async ({ fold, session }: FoldSession) => {
        const t1 = performance.now();
        const fetches = withFeatures ? [manifest.output.name, featuresOutput] : [manifest.output.name];
        const outputs = await this.nativeCall(() => session.run({ [manifest.input.name]: input }, fetches));
        const ms = performance.now() - t1;
        inferenceMs += ms;
        timing?.runs.push({ fold, pass: passIndex, batch: images.length, ms });
        return outputs;
      };
      let foldOutputs: Awaited<ReturnType<typeof runFold>>[];
      if (this.parallelFolds) foldOutputs = await Promise.all(this.sessions.map(runFold));
      else {
        foldOutputs = [];
        for (const session of this.sessions) foldOutputs.push(await runFold(session));
      }
      // In fold order whichever finished first, so that the merge sees the same candidates in the same order.
      for (const [i, outputs] of foldOutputs.entries()) {
        const fold = this.sessions[i]?.fold ?? i;
        const output = outputs[manifest.output.name];
        if (!output) throw new KneeTumorError('model-invalid', `fold ${fold} returned no ${manifest.output.name}`);
        const t2 = performance.now();
        this.collectCandidates(output, fold, passIndex, pass, letterboxes, candidates);
        output.dispose();
        if (withFeatures) this.collectDistances(outputs[featuresOutput], fold, foldDistances);
        postprocessMs += performance.now() - t2;
      }
      input.dispose();
    }
    const t3 = performance.now();
    const merged = candidates.map((viewCandidates) =>
      mergeCandidates(viewCandidates, {
        method: this.merge,
        iouThreshold: manifest.postprocess.nmsIouThreshold,
        maxDetections: manifest.postprocess.maxDetections,
        foldCount: this.sessions.length,
        predictionSets: this.sessions.length * manifest.tta.passes.length,
      }),
    );
    postprocessMs += performance.now() - t3;
    if (timing) Object.assign(timing, { preprocessMs, inferenceMs, postprocessMs });
    return merged.map((boxes, i) => {
      const distances = foldDistances[i] ?? [];
      if (!domain || distances.length === 0) return { boxes };
      const distance = distances.reduce((a, b) => a + b, 0) / distances.length;
      return { boxes, domain: { distance, threshold: domain.threshold, outside: distance > domain.threshold } };
    });
  }

  /** Each image's distance from one fold's training domain, from that fold's [batch, channels] features. */
  private collectDistances(features: ort.Tensor | undefined, fold: number, into: number[][]): void {
    const distribution = this.model.domain?.folds.get(fold);
    const channels = features?.dims[1];
    if (!features || !distribution || features.dims.length !== 2 || channels !== distribution.mean.length) {
      throw new KneeTumorError('model-invalid', `fold ${fold} features have shape [${features?.dims.join(', ') ?? ''}], the domain statistics expect [N, ${distribution?.mean.length ?? '?'}]`);
    }
    const value = elementReader(features);
    into.forEach((distances, b) => {
      const vector = Float64Array.from({ length: channels }, (_, c) => value(b * channels + c));
      distances.push(foldDistance(vector, distribution));
    });
    features.dispose();
  }

  /** Decodes a [batch, rows, 5 + classes] output, de-augments the boxes, keeps those above the score threshold that are no sliver. */
  private collectCandidates(output: ort.Tensor, fold: number, passIndex: number, pass: TtaPass, letterboxes: Letterbox[], into: CandidateBox[][]): void {
    const { manifest } = this;
    const [batch, rows, columns] = output.dims;
    const classes = manifest.classNames.length;
    if (output.dims.length !== 3 || batch !== letterboxes.length || columns !== 5 + classes || rows === undefined) {
      throw new KneeTumorError('model-invalid', `fold ${fold} output has shape [${output.dims.join(', ')}], expected [${letterboxes.length}, N, ${5 + classes}]`);
    }
    const value = elementReader(output);
    const { first, last } = this.keptRows(passIndex, pass, rows);
    const threshold = manifest.postprocess.scoreThreshold;
    for (let b = 0; b < batch; b++) {
      const geometry = letterboxes[b];
      const target = into[b];
      if (!geometry || !target) continue;
      for (let r = first; r < last; r++) {
        const base = (b * rows + r) * columns;
        const objectness = value(base + 4);
        if (!(objectness > threshold)) continue;
        let classScore = 0;
        for (let c = 0; c < classes; c++) classScore = Math.max(classScore, value(base + 5 + c));
        const confidence = objectness * classScore;
        if (!(confidence > threshold)) continue;
        const inLetterbox = descalePassBox(value(base), value(base + 1), value(base + 2), value(base + 3), pass, manifest.input.size);
        const box = imageBox(inLetterbox, geometry);
        if (box) target.push({ ...box, confidence, fold });
      }
    }
  }

  /** YOLOv5's _clip_augmented: the first pass loses its last layer's rows, the last pass its first layer's. */
  private keptRows(passIndex: number, pass: TtaPass, rows: number): { first: number; last: number } {
    const { manifest } = this;
    const passes = manifest.tta.passes.length;
    const { width, height } = passShape(manifest.input.size, pass, manifest.tta.gridStride);
    const perLayer = layerRows(manifest, width, height);
    if (perLayer.length === 0 || passes < 2) return { first: 0, last: rows };
    if (perLayer.reduce((a, b) => a + b, 0) !== rows) {
      throw new KneeTumorError('model-invalid', `the output has ${rows} rows, the manifest's detection layers give ${perLayer.join(' + ')}`);
    }
    if (passIndex === 0) return { first: 0, last: rows - (perLayer[perLayer.length - 1] ?? 0) };
    if (passIndex === passes - 1) return { first: perLayer[0] ?? 0, last: rows };
    return { first: 0, last: rows };
  }
}
