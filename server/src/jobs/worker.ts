/**
 * Runs queued jobs one at a time (inference takes the machine): analyse the study, hand the result
 * to every result writer, mark the job done once all have written. The analysis and each writer's
 * outcome are recorded with the job, so a retry analyses only when no result is stored and runs only
 * the writers that have not written. A retryable failure (PACS or FHIR down, study not yet in the EHR) is
 * retried with exponential backoff, or after the server's Retry-After when longer, up to
 * maxAttempts (missingStudyAttempts for a study the PACS does not list); any other failure fails
 * the job with its reason. The worker never runs inside a hook request.
 * The job store may fail (a full disk): the worker then pauses, keeps the outcome it has to
 * record, and tries again every storeRetryMs; nothing it meets takes the process down.
 */
import type { AnalysisResult } from '../domain/analysis';
import { asKneeTumorError, isKneeTumorError, KneeTumorError, messageOf } from '../errors';
import type { Log } from '../log';
import type { ResultWriter } from '../results/result-writer';
import type { AttemptRecord, Job, JobStore, WriterOutcome, WriterTry } from './store';

export interface RetryPolicy {
  maxAttempts: number;
  missingStudyAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  pollIntervalMs: number;
  /** The pause before the job store is tried again after it failed. */
  storeRetryMs: number;
}

export interface WorkerDeps {
  store: JobStore;
  analyse: (studyInstanceUid: string) => Promise<AnalysisResult>;
  /** In order; the first one's location is the job's report. */
  writers: readonly ResultWriter[];
  policy: RetryPolicy;
  log: Log;
}

export interface JobWorker {
  /** Runs every job that is due now; resolves with how many ran. */
  runDue(): Promise<number>;
  /** Recovers interrupted jobs, then keeps running due jobs until stopped. */
  start(): void;
  /** Looks for work now instead of at the next poll (a trigger just queued a job). */
  wake(): void;
  /** Resolves once the job in progress, if any, has finished. */
  stop(): Promise<void>;
}

/** The wait before the next attempt: exponential, or longer when the server asked (Retry-After), capped. */
export function backoffMs(policy: RetryPolicy, attempts: number, retryAfterMs = 0): number {
  return Math.min(policy.maxBackoffMs, Math.max(retryAfterMs, policy.initialBackoffMs * 2 ** Math.max(0, attempts - 1)));
}

/** How many attempts an error deserves before the job fails with it. */
function attemptLimit(policy: RetryPolicy, error: KneeTumorError): number {
  return error.code === 'study-not-found' ? Math.min(policy.missingStudyAttempts, policy.maxAttempts) : policy.maxAttempts;
}

/** The reason a job fails with: after retries, how many attempts were made. */
function finalError(error: KneeTumorError, attempts: number): KneeTumorError {
  if (!error.retryable) return error;
  return new KneeTumorError(error.code, `${error.reason} (gave up after ${attempts} attempts)`, { cause: error });
}

export function createJobWorker(deps: WorkerDeps): JobWorker {
  const { store, policy, log } = deps;
  let running = false;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wakeUp: (() => void) | undefined;
  let storePaused = false;
  let recovered = false;

  function sleepFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    });
  }

  /**
   * Runs a store operation; while the store fails, pauses and tries again (the job stays claimed
   * meanwhile). Undefined when stopped first: the job is then recovered at the next start.
   */
  async function persist<T>(operation: () => Promise<T>): Promise<{ value: T } | undefined> {
    for (;;) {
      try {
        const value = await operation();
        storeWorks();
        return { value };
      } catch (thrown) {
        if (!isStoreFailure(thrown)) throw thrown;
        storeFailed(thrown);
        if (stopping) return undefined;
        await sleepFor(policy.storeRetryMs);
      }
    }
  }

  function isStoreFailure(error: unknown): error is KneeTumorError {
    return isKneeTumorError(error) && error.code === 'job-store-unavailable';
  }

  function storeFailed(error: KneeTumorError): void {
    if (!storePaused) log('job-store-paused', { code: error.code, reason: error.reason, retryMs: policy.storeRetryMs });
    storePaused = true;
  }

  function storeWorks(): void {
    if (storePaused) log('job-store-resumed', {});
    storePaused = false;
  }

  /** Runs the writers that have not written yet; their tries, and the first error met. */
  async function writeAll(job: Job, result: AnalysisResult, written: ReadonlySet<string>): Promise<{ writes: WriterTry[]; error?: KneeTumorError }> {
    const writes: WriterTry[] = [];
    let firstError: KneeTumorError | undefined;
    for (const writer of deps.writers.filter((w) => !written.has(w.name))) {
      try {
        const { location, created } = await writer.write(result);
        writes.push({ writer: writer.name, location });
        log('result-written', { job: job.id, study: job.studyInstanceUid, writer: writer.name, location, created });
      } catch (thrown) {
        const error = asKneeTumorError(thrown, 'internal', `the ${writer.name} result writer failed unexpectedly`);
        writes.push({ writer: writer.name, error });
        // A final error decides the job's fate over a retryable one.
        if (!firstError || (firstError.retryable && !error.retryable)) firstError = error;
      }
    }
    return { writes, error: firstError };
  }

  /** Where each writer has written: earlier attempts' outcomes, then this attempt's tries. */
  function locations(earlier: readonly WriterOutcome[], writes: readonly WriterTry[]): Map<string, string> {
    const written = new Map<string, string>();
    for (const w of earlier) if (w.state === 'written' && w.location) written.set(w.writer, w.location);
    for (const w of writes) if ('location' in w) written.set(w.writer, w.location);
    return written;
  }

  async function runJob(job: Job): Promise<void> {
    log('job-started', { job: job.id, study: job.studyInstanceUid, attempt: job.attempts });
    const stored = await persist(() => store.progress(job.id));
    if (!stored) return;
    const progress = stored.value;
    let attempt: AttemptRecord = { writes: [] };
    let outcome: () => Promise<void>;
    let logged: () => void;
    try {
      const result = progress.result ?? (await deps.analyse(job.studyInstanceUid));
      const { writes, error } = await writeAll(job, result, new Set(locations(progress.writers, []).keys()));
      attempt = { result: progress.result ? undefined : result, writes };
      if (error) throw error;
      const report = locations(progress.writers, writes).get(deps.writers[0]?.name ?? '');
      outcome = () => store.complete(job.id, report, attempt);
      logged = () => log('job-done', { job: job.id, study: job.studyInstanceUid, report });
    } catch (thrown) {
      const error = asKneeTumorError(thrown, 'internal', 'the analysis failed unexpectedly');
      if (error.retryable && job.attempts < attemptLimit(policy, error)) {
        const delay = backoffMs(policy, job.attempts, error.retryAfterMs);
        outcome = () => store.retryLater(job.id, error, Date.now() + delay, attempt);
        logged = () => log('job-retry', { job: job.id, study: job.studyInstanceUid, code: error.code, attempt: job.attempts, delayMs: delay });
      } else {
        outcome = () => store.fail(job.id, finalError(error, job.attempts), attempt);
        logged = () => log('job-failed', { job: job.id, study: job.studyInstanceUid, code: error.code, attempts: job.attempts });
      }
    }
    if (await persist(outcome)) logged();
  }

  async function runDue(): Promise<number> {
    let count = 0;
    for (let job = await store.claimNext(); job; job = stopping ? undefined : await store.claimNext()) {
      await runJob(job);
      count += 1;
    }
    return count;
  }

  async function sleep(): Promise<void> {
    const due = await store.nextDue();
    return sleepFor(due === undefined ? policy.pollIntervalMs : Math.max(0, Math.min(policy.pollIntervalMs, due - Date.now())));
  }

  /** Once per start, before any job is claimed: the jobs a killed process left running. */
  async function recover(): Promise<void> {
    if (recovered) return;
    const { requeued, failed } = await store.recoverInterrupted(policy.maxAttempts);
    recovered = true;
    if (requeued > 0 || failed > 0) log('jobs-recovered', { requeued, failed });
  }

  /** One turn of the loop; a failing store (or anything else) pauses the worker instead of ending the process. */
  async function turn(): Promise<void> {
    try {
      await recover();
      await runDue();
      storeWorks();
      if (running) await sleep();
    } catch (thrown) {
      if (isStoreFailure(thrown)) storeFailed(thrown);
      else log('job-worker-error', { reason: messageOf(thrown), stack: (thrown as Error).stack });
      if (running) await sleepFor(policy.storeRetryMs);
    }
  }

  return {
    runDue,
    start() {
      if (running) return;
      running = true;
      stopping = false;
      recovered = false;
      loop = (async () => {
        while (running) await turn();
      })();
    },
    wake() {
      if (timer) clearTimeout(timer);
      wakeUp?.();
    },
    async stop() {
      running = false;
      stopping = true;
      this.wake();
      await loop;
    },
  };
}
