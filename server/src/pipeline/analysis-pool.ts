/**
 * The CDS service's analyses run in a worker thread (piscina), so that decoding and inference
 * never hold up the event loop that answers CDS hooks and triggers. Worker threads rather than
 * child processes: the ensemble and sharp load in a thread as they do in the main one, results
 * cross as structured clones without a serialisation layer, and Node bounds a thread's heap
 * (resourceLimits). One thread: the job worker runs one study at a time and inference takes the
 * machine's cores. An analysis that runs past analysis.worker.timeoutMs, or past the heap limit,
 * has its thread ended (piscina starts a fresh one, which loads the ensemble again) and fails
 * analysis-limit-exceeded, naming the limit; past the time limit the thread is ended only between
 * onnxruntime's native calls (thread-stop.ts), since ending it inside one aborts the process. A native crash would still end the whole process;
 * the job store counts that attempt and fails the study after maxAttempts (analysis-crashed).
 */
import * as path from 'node:path';
import Piscina from 'piscina';
import type { AnalysisConfig, ModelConfig, PacsConfig } from '../config';
import type { ModelIdentity } from '../domain/analysis';
import { KneeTumorError } from '../errors';
import type { AnalysisTask, AnalysisWorkerData, WorkerDescription, WorkerOutcome } from './analysis-worker';
import type { ExecutionProvider } from './detect';
import type { Analyse } from './run-analysis';
import { createThreadStopState, stopBetweenNativeCalls, timeLimitExceeded } from './thread-stop';

export interface AnalysisPool {
  analyse: Analyse;
  identity: ModelIdentity;
  executionProvider: ExecutionProvider;
  /** Ends the worker thread (after its analysis in progress, if any, is abandoned). */
  release(): Promise<void>;
}

/**
 * The worker thread's entry, beside this file: the compiled worker when this runs compiled
 * (dist/server/src/pipeline), else (the tests, on the TypeScript sources) an entry that loads the
 * worker's sources, never a build that may be older than them.
 */
export const WORKER_FILE = path.join(__dirname, path.extname(__filename) === '.ts' ? 'analysis-worker.from-sources.js' : 'analysis-worker.js');

function unwrap<T>(outcome: WorkerOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { code, reason, retryAfterMs } = outcome.error;
  throw new KneeTumorError(code, reason, retryAfterMs === undefined ? undefined : { retryAfterMs });
}

/** Why the thread did not answer: a limit of ours, or the thread itself failing. */
function threadFailure(error: unknown, limits: AnalysisConfig['worker']): KneeTumorError {
  const cause = error as NodeJS.ErrnoException;
  if (cause.name === 'AbortError') return timeLimitExceeded(limits.timeoutMs, cause);
  if (cause.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new KneeTumorError('analysis-limit-exceeded', `the analysis used more memory than analysis.worker.maxHeapMb (${limits.maxHeapMb} MiB of JavaScript heap) and was stopped`, { cause });
  }
  return new KneeTumorError('analysis-crashed', `the analysis stopped its worker thread: ${cause.message}`, { cause });
}

/**
 * A limit that the inference alone nearly fills would stop studies that are fine (the images
 * must be fetched and decoded too) and end the thread mid-inference: refused at start instead.
 */
function assertTimeLimitFits(warmUpMs: number, timeoutMs: number): void {
  if (warmUpMs * 2 <= timeoutMs) return;
  throw new KneeTumorError(
    'config-invalid',
    `analysis.worker.timeoutMs (${timeoutMs} ms) is too short for this machine: warming the model up on one study took ${warmUpMs} ms, and the limit must be at least twice that`,
  );
}

export async function startAnalysisPool(pacs: PacsConfig, model: ModelConfig, analysis: AnalysisConfig, warn: (message: string) => void): Promise<AnalysisPool> {
  const limits = analysis.worker;
  const threadStop = createThreadStopState();
  const workerData: AnalysisWorkerData = { pacs, model, analysis, threadStop };
  const pool = new Piscina({
    filename: WORKER_FILE,
    workerData,
    minThreads: 1,
    maxThreads: 1,
    concurrentTasksPerWorker: 1,
    // The thread keeps the loaded ensemble between studies.
    idleTimeout: Number.POSITIVE_INFINITY,
    resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
  });
  const run = async <T>(task: unknown, name: string, signal?: AbortSignal): Promise<T> => {
    let outcome: WorkerOutcome<T>;
    try {
      outcome = await pool.run(task, { name, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw threadFailure(error, limits);
    }
    return unwrap(outcome);
  };
  // Loading and the warm-up run without the time limit: ending the thread while onnxruntime
  // creates its sessions or infers aborts the whole process natively.
  let description: WorkerDescription;
  try {
    description = await run<WorkerDescription>({}, 'describe');
    assertTimeLimitFits(description.warmUpMs, limits.timeoutMs);
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  for (const message of description.warnings) warn(message);
  let lastTask = 0;
  /** Past the time limit the task is asked to stop; the thread is ended once no native call is in progress. */
  const analyse: Analyse = async (studyInstanceUid, context) => {
    const task = ++lastTask;
    const stop = new AbortController();
    const timer = setTimeout(() => void stopBetweenNativeCalls(threadStop, task).then(() => stop.abort()), limits.timeoutMs);
    try {
      return await run({ task, studyInstanceUid, context } satisfies AnalysisTask, 'default', stop.signal);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    analyse,
    identity: description.identity,
    executionProvider: description.executionProvider,
    release: () => pool.destroy(),
  };
}
