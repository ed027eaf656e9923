/**
 * Runs queued jobs one at a time (inference takes the machine): analyse the study, write the
 * report, mark the job done. A retryable failure (PACS or FHIR down, study not yet in the EHR) is
 * retried with exponential backoff, or after the server's Retry-After when longer, up to
 * maxAttempts (missingStudyAttempts for a study the PACS does not list); any other failure fails
 * the job with its reason. The worker never runs inside a hook request.
 */
import type { AnalysisResult } from '../domain/analysis';
import { asKneeTumorError, KneeTumorError } from '../errors';
import type { WrittenReport } from '../fhir/write-report';
import type { Log } from '../log';
import type { Job, JobStore } from './store';

export interface RetryPolicy {
  maxAttempts: number;
  missingStudyAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  pollIntervalMs: number;
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

  async function runJob(job: Job): Promise<void> {
    log('job-started', { job: job.id, study: job.studyInstanceUid, attempt: job.attempts });
    try {
      const result = await deps.analyse(job.studyInstanceUid);
      const written = await deps.writeReport(result);
      store.complete(job.id, written.report);
      log('job-done', { job: job.id, study: job.studyInstanceUid, report: written.report, created: written.created });
    } catch (thrown) {
      const error = asKneeTumorError(thrown, 'internal', 'the analysis failed unexpectedly');
      if (error.retryable && job.attempts < attemptLimit(policy, error)) {
        const delay = backoffMs(policy, job.attempts, error.retryAfterMs);
        store.retryLater(job.id, error, Date.now() + delay);
        log('job-retry', { job: job.id, study: job.studyInstanceUid, code: error.code, attempt: job.attempts, delayMs: delay });
      } else {
        store.fail(job.id, finalError(error, job.attempts));
        log('job-failed', { job: job.id, study: job.studyInstanceUid, code: error.code, attempts: job.attempts });
      }
    }
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
    const wait = due === undefined ? policy.pollIntervalMs : Math.max(0, Math.min(policy.pollIntervalMs, due - Date.now()));
    return new Promise((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, wait);
    });
  }

  return {
    runDue,
    start() {
      if (running) return;
      running = true;
      stopping = false;
      const recovered = store.recoverInterrupted();
      if (recovered > 0) log('jobs-recovered', { count: recovered });
      loop = (async () => {
        while (running) {
          await runDue();
          if (running) await sleep();
        }
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
