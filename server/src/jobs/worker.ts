/**
 * Runs queued jobs one at a time (inference takes the machine): analyse the study, write the
 * report, mark the job done. A retryable failure (PACS or FHIR down, study not yet in the EHR) is
 * retried with exponential backoff, or after the server's Retry-After when longer, up to
 * maxAttempts (missingStudyAttempts for a study the PACS does not list); any other failure fails
 * the job with its reason. The worker never runs inside a hook request.
 * The job store may fail (a full disk): the worker then pauses, keeps the outcome it has to
 * record, and tries again every storeRetryMs; nothing it meets takes the process down.
 */
import type { AnalysisResult } from '../domain/analysis';
import { asKneeTumorError, isKneeTumorError, KneeTumorError } from '../errors';
import type { WrittenReport } from '../fhir/write-report';
import type { Log } from '../log';
import type { Job, JobStore } from './store';

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
  writeReport: (result: AnalysisResult) => Promise<WrittenReport>;
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
   * Records an outcome in the store; while the store fails, pauses and tries again (the job stays
   * claimed meanwhile). False when stopped first: the job is then recovered at the next start.
   */
  async function record(write: () => void): Promise<boolean> {
    for (;;) {
      try {
        write();
        storeWorks();
        return true;
      } catch (thrown) {
        if (!isStoreFailure(thrown)) throw thrown;
        storeFailed(thrown);
        if (stopping) return false;
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

  async function runJob(job: Job): Promise<void> {
    log('job-started', { job: job.id, study: job.studyInstanceUid, attempt: job.attempts });
    let outcome: () => void;
    let logged: () => void;
    try {
      const result = await deps.analyse(job.studyInstanceUid);
      const written = await deps.writeReport(result);
      outcome = () => store.complete(job.id, written.report);
      logged = () => log('job-done', { job: job.id, study: job.studyInstanceUid, report: written.report, created: written.created });
    } catch (thrown) {
      const error = asKneeTumorError(thrown, 'internal', 'the analysis failed unexpectedly');
      if (error.retryable && job.attempts < attemptLimit(policy, error)) {
        const delay = backoffMs(policy, job.attempts, error.retryAfterMs);
        outcome = () => store.retryLater(job.id, error, Date.now() + delay);
        logged = () => log('job-retry', { job: job.id, study: job.studyInstanceUid, code: error.code, attempt: job.attempts, delayMs: delay });
      } else {
        outcome = () => store.fail(job.id, finalError(error, job.attempts));
        logged = () => log('job-failed', { job: job.id, study: job.studyInstanceUid, code: error.code, attempts: job.attempts });
      }
    }
    if (await record(outcome)) logged();
  }

  async function runDue(): Promise<number> {
    let count = 0;
    for (let job = store.claimNext(); job; job = stopping ? undefined : store.claimNext()) {
      await runJob(job);
      count += 1;
    }
    return count;
  }

  function sleep(): Promise<void> {
    const due = store.nextDue();
    return sleepFor(due === undefined ? policy.pollIntervalMs : Math.max(0, Math.min(policy.pollIntervalMs, due - Date.now())));
  }

  /** Once per start, before any job is claimed: the jobs a killed process left running. */
  function recover(): void {
    if (recovered) return;
    const { requeued, failed } = store.recoverInterrupted(policy.maxAttempts);
    recovered = true;
    if (requeued > 0 || failed > 0) log('jobs-recovered', { requeued, failed });
  }

  /** One turn of the loop; a failing store (or anything else) pauses the worker instead of ending the process. */
  async function turn(): Promise<void> {
    try {
      recover();
      await runDue();
      storeWorks();
      if (running) await sleep();
    } catch (thrown) {
      if (isStoreFailure(thrown)) storeFailed(thrown);
      else log('job-worker-error', { reason: (thrown as Error).message, stack: (thrown as Error).stack });
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
