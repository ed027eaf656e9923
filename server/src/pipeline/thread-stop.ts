/**
 * Stopping the analysis thread safely. Ending a worker thread while onnxruntime is inside a native
 * call (creating a session, running one) aborts the whole process ("terminate called after
 * throwing an instance of 'Napi::Error'"). So the thread counts its native calls in memory shared
 * with the service's thread: once the service asks a task to stop, no new native call of that task
 * starts, and the thread is ended only when none is in progress.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KneeTumorError } from '../errors';

/** Runs one native call (or a stretch of them) under the guard. */
export type NativeCall = <T>(call: () => Promise<T>) => Promise<T>;

/** Slots of the shared state: native calls in progress, and the task asked to stop (0: none). */
const IN_PROGRESS = 0;
const STOPPED_TASK = 1;

export function createThreadStopState(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
}

export function timeLimitExceeded(timeoutMs: number, cause?: unknown): KneeTumorError {
  return new KneeTumorError('analysis-limit-exceeded', `the analysis ran longer than analysis.worker.timeoutMs (${timeoutMs} ms) and was stopped`, { cause });
}

/**
 * In the analysis thread: counts `call` as native work of the task `currentTask()` returns, and
 * refuses to start it once that task was asked to stop. The call is counted before the check, so
 * the service never sees no call in progress while one is about to start.
 */
export function nativeCallGuard(state: Int32Array, currentTask: () => number, stopped: () => Error): NativeCall {
  return async (call) => {
    Atomics.add(state, IN_PROGRESS, 1);
    try {
      const task = currentTask();
      if (task !== 0 && Atomics.load(state, STOPPED_TASK) === task) throw stopped();
      return await call();
    } finally {
      Atomics.sub(state, IN_PROGRESS, 1);
    }
  };
}

/** In the service's thread: asks the thread to stop `task` (numbered from 1), and resolves once no native call is in progress. */
export async function stopBetweenNativeCalls(state: Int32Array, task: number, pollMs = 10): Promise<void> {
  Atomics.store(state, STOPPED_TASK, task);
  while (Atomics.load(state, IN_PROGRESS) !== 0) await sleep(pollMs);
}
