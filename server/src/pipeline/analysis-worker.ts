/**
 * The body of the analysis worker thread (see analysis-pool.ts): loads the ensemble once and
 * analyses the studies it is given. What crosses back to the service is plain data: the result,
 * or the failure's code and reason, since an error's class does not survive the thread boundary.
 */
import { workerData } from 'node:worker_threads';
import type { AnalysisConfig, ModelConfig, PacsConfig } from '../config';
import type { AnalysisResult, ModelIdentity } from '../domain/analysis';
import { asKneeTumorError, type ErrorCode } from '../errors';
import type { ExecutionProvider } from './detect';
import type { StudyContext } from './locate-study';
import { loadPacsAnalysis } from './pacs-analysis';

/** What the worker thread is started with (plain data, cloned into the thread). */
export interface AnalysisWorkerData {
  pacs: PacsConfig;
  model: ModelConfig;
  analysis: AnalysisConfig;
}

export type WorkerOutcome<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; reason: string; retryAfterMs?: number } };

export interface WorkerDescription {
  identity: ModelIdentity;
  executionProvider: ExecutionProvider;
  /** What the detector said while loading (a fallback to the CPU), for the service's log. */
  warnings: string[];
}

export interface AnalysisTask {
  studyInstanceUid: string;
  context?: StudyContext;
}

const settings = workerData as AnalysisWorkerData;
const warnings: string[] = [];
const loaded = loadPacsAnalysis(settings.pacs, settings.model, settings.analysis, (message) => warnings.push(message));
// A load failure is reported by the first task that awaits it.
loaded.catch(() => undefined);

async function outcome<T>(work: () => Promise<T>): Promise<WorkerOutcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (thrown) {
    const { code, reason, retryAfterMs } = asKneeTumorError(thrown, 'internal', `the analysis failed unexpectedly: ${(thrown as Error).message}`);
    return { ok: false, error: { code, reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) } };
  }
}

export function describe(): Promise<WorkerOutcome<WorkerDescription>> {
  return outcome(async () => {
    const { detector } = await loaded;
    return { identity: detector.identity, executionProvider: detector.executionProvider, warnings };
  });
}

export default function analyse(task: AnalysisTask): Promise<WorkerOutcome<AnalysisResult>> {
  return outcome(async () => (await loaded).analyse(task.studyInstanceUid, task.context));
}
