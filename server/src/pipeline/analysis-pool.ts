/**
 * The CDS service's analyses run in a worker thread (piscina), so that decoding and inference
 * never hold up the event loop that answers CDS hooks and triggers. Worker threads rather than
 * child processes: the ensemble and sharp load in a thread as they do in the main one, results
 * cross as structured clones without a serialisation layer, and Node bounds a thread's heap
 * (resourceLimits). One thread: the job worker runs one study at a time and inference takes the
 * machine's cores. An analysis that runs past analysis.worker.timeoutMs, or past the heap limit,
 * has its thread ended (piscina starts a fresh one, which loads the ensemble again) and fails
 * analysis-limit-exceeded, naming the limit. A native crash would still end the whole process;
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

export interface AnalysisPool {
  analyse: Analyse;
  identity: ModelIdentity;
  executionProvider: ExecutionProvider;
  /** Ends the worker thread (after its analysis in progress, if any, is abandoned). */
  release(): Promise<void>;
}

/**
 * The compiled worker: beside this file when it runs compiled (dist/server/src/pipeline), in the
 * build when it runs as TypeScript (the tests), since a thread loads JavaScript.
 */
const WORKER_FILE = path.join(
  path.basename(path.resolve(__dirname, '../../..')) === 'dist' ? __dirname : path.resolve(__dirname, '../../../dist/server/src/pipeline'),
  'analysis-worker.js',
);

function unwrap<T>(outcome: WorkerOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  const { code, reason, retryAfterMs } = outcome.error;
  throw new KneeTumorError(code, reason, retryAfterMs === undefined ? undefined : { retryAfterMs });
}

/** Why the thread did not answer: a limit of ours, or the thread itself failing. */
function threadFailure(error: unknown, limits: AnalysisConfig['worker']): KneeTumorError {
  const cause = error as NodeJS.ErrnoException;
  if (cause.name === 'AbortError') {
    return new KneeTumorError('analysis-limit-exceeded', `the analysis ran longer than analysis.worker.timeoutMs (${limits.timeoutMs} ms) and was stopped`, { cause });
  }
  if (cause.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new KneeTumorError('analysis-limit-exceeded', `the analysis used more memory than analysis.worker.maxHeapMb (${limits.maxHeapMb} MiB of JavaScript heap) and was stopped`, { cause });
  }
  return new KneeTumorError('analysis-crashed', `the analysis stopped its worker thread: ${cause.message}`, { cause });
}

export async function startAnalysisPool(pacs: PacsConfig, model: ModelConfig, analysis: AnalysisConfig, warn: (message: string) => void): Promise<AnalysisPool> {
  const limits = analysis.worker;
  const workerData: AnalysisWorkerData = { pacs, model, analysis };
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
  const run = async <T>(task: unknown, name: string): Promise<T> => {
    let outcome: WorkerOutcome<T>;
    try {
      outcome = await pool.run(task, { name, signal: AbortSignal.timeout(limits.timeoutMs) });
    } catch (error) {
      throw threadFailure(error, limits);
    }
    return unwrap(outcome);
  };
  let description: WorkerDescription;
  try {
    description = await run<WorkerDescription>({}, 'describe');
  } catch (error) {
    await pool.destroy();
    throw error;
  }
  for (const message of description.warnings) warn(message);
  return {
    analyse: (studyInstanceUid, context) => run({ studyInstanceUid, context } satisfies AnalysisTask, 'default'),
    identity: description.identity,
    executionProvider: description.executionProvider,
    release: () => pool.destroy(),
  };
}
