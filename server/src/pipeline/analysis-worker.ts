/**
 * The body of the analysis worker thread (see analysis-pool.ts): loads the ensemble once and
 * analyses the studies it is given. What crosses back to the service is plain data: the result,
 * or the failure's code and reason, since an error's class does not survive the thread boundary.
 */
import { workerData } from 'node:worker_threads';
import type { AnalysisConfig, ModelConfig, PacsConfig } from '../config';
import type { AnalysisResult, ModelIdentity } from '../domain/analysis';
import { asKneeTumorError, type ErrorCode, messageOf } from '../errors';
import type { ExecutionProvider } from './detect';
import type { StudyOrderContext } from './locate-study';
import { loadPacsAnalysis } from './pacs-analysis';
import { nativeCallGuard, timeLimitExceeded } from './thread-stop';

/** What the worker thread is started with (plain data, cloned into the thread). */
export interface AnalysisWorkerData {
  pacs: PacsConfig;
  model: ModelConfig;
  analysis: AnalysisConfig;
  /** Shared with the service's thread: the native calls in progress and the task asked to stop (thread-stop.ts). */
  threadStop: Int32Array;
}

export type WorkerOutcome<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; reason: string; retryAfterMs?: number } };

export interface WorkerDescription {
  identity: ModelIdentity;
  executionProvider: ExecutionProvider;
  /** What the detector said while loading (a fallback to the CPU), for the service's log. */
  warnings: string[];
  /** How long the ensemble took on one blank study (two views), its first inference included. */
  warmUpMs: number;
}

export interface AnalysisTask {
  /** Numbered from 1 by the service, which may ask the thread to stop it. */
  task: number;
  studyInstanceUid: string;
  context?: StudyOrderContext;
}

const settings = workerData as AnalysisWorkerData;
const warnings: string[] = [];
/** The task in progress; 0 while the ensemble loads and warms up, which nothing stops. */
let currentTask = 0;
const nativeCall = nativeCallGuard(settings.threadStop, () => currentTask, () => timeLimitExceeded(settings.analysis.worker.timeoutMs));
const loaded = loadPacsAnalysis(settings.pacs, settings.model, settings.analysis, (message) => warnings.push(message), nativeCall);
// A load failure is reported by the first task that awaits it.
loaded.catch(() => undefined);

async function outcome<T>(work: () => Promise<T>): Promise<WorkerOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (thrown) {
    const { code, reason, retryAfterMs } = asKneeTumorError(thrown, 'internal', `the analysis failed unexpectedly: ${messageOf(thrown)}`);
    return { ok: false, error: { code, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) } };
  }
}

/** Loads the ensemble and runs it once on two blank views, timing that warm-up. */
export function describe(): Promise<WorkerOutcome<WorkerDescription>> {
  return outcome(async () => {
    const { detector } = await loaded;
    const { size } = detector.manifest.input;
    const blank = { width: size, height: size, data: new Uint8Array(size * size) };
    const started = performance.now();
    await detector.detectViews([blank, blank]);
    return { identity: detector.identity, executionProvider: detector.executionProvider, warnings, warmUpMs: Math.round(performance.now() - started) };
  });
}

export default function analyse(task: AnalysisTask): Promise<WorkerOutcome<AnalysisResult>> {
  return outcome(async () => {
    const analysis = await loaded;
    // Set once loaded: a stop asked while the ensemble loads must not leave the thread without it.
    currentTask = task.task;
    return analysis.analyse(task.studyInstanceUid, task.context);
  });
}
