/**
 * The durable job store: one job per StudyInstanceUID and model, so every trigger for the same
 * study lands on the same row. A job is queued, running, done (with the report it wrote) or
 * failed (with the reason). An attempt is counted when a job is claimed, so running jobs left by
 * a killed process are queued again at start until their attempts are spent, then failed: a study
 * that takes the process down cannot do so forever. Every SQLite failure (disk full, I/O error)
 * comes out as job-store-unavailable, which callers survive.
 */
import { KneeTumorError, type ErrorCode } from '../errors';
import type { ServiceDatabase } from './database';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
/** `reconcile`: found by the periodic PACS or FHIR search, its trigger having been missed. */
export type TriggerSource = 'orthanc' | 'fhir-subscription' | 'http' | 'reconcile';

export interface Job {
  id: number;
  studyInstanceUid: string;
  /** The model that analyses it ("name@version"): a new model version is a new job. */
  model: string;
  state: JobState;
  attempts: number;
  /** Epoch milliseconds before which a queued job is not started (retry backoff). */
  notBefore: number;
  errorCode?: ErrorCode;
  errorReason?: string;
  /** "DiagnosticReport/<id>" once done. */
  report?: string;
  source: TriggerSource;
  createdAt: number;
  updatedAt: number;
}

interface JobRow {
  id: number;
  study_uid: string;
  model: string;
  state: JobState;
  attempts: number;
  not_before: number;
  error_code: ErrorCode | null;
  error_reason: string | null;
  report: string | null;
  source: TriggerSource;
  created_at: number;
  updated_at: number;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    studyInstanceUid: row.study_uid,
    model: row.model,
    state: row.state,
    attempts: row.attempts,
    notBefore: row.not_before,
    errorCode: row.error_code ?? undefined,
    errorReason: row.error_reason ?? undefined,
    report: row.report ?? undefined,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** How many jobs are in each state, and since when the longest-waiting queued job has waited. */
export interface JobStatistics {
  byState: Record<JobState, number>;
  /** Epoch milliseconds at which the oldest queued job was queued (or re-queued for a retry). */
  oldestQueuedAt?: number;
}

export interface JobStore {
  readonly model: string;
  /** Queues the study unless a job exists; a failed job is queued again (new images may fix it). */
  enqueue(studyInstanceUid: string, source: TriggerSource, now?: number): { job: Job; created: boolean };
  /** Marks the oldest due queued job running and returns it. */
  claimNext(now?: number): Job | undefined;
  complete(id: number, report: string, now?: number): void;
  retryLater(id: number, error: KneeTumorError, notBefore: number, now?: number): void;
  fail(id: number, error: KneeTumorError, now?: number): void;
  /**
   * The jobs a killed process left running: queued again while they have attempts left, failed
   * (analysis-crashed) once maxAttempts claims all ended with the process.
   */
  recoverInterrupted(maxAttempts: number, now?: number): { requeued: number; failed: number };
  forStudy(studyInstanceUid: string): Job | undefined;
  /** The job states of many studies at once (for a hook's patient). */
  forStudies(studyInstanceUids: readonly string[]): Map<string, Job>;
  /** The earliest notBefore of the queued jobs, to sleep until then. */
  nextDue(): number | undefined;
  /** For metrics and readiness; also proves the database answers. */
  statistics(): JobStatistics;
}

/** The reason a job fails with when every attempt ended with the process. */
export const PROCESS_STOPPED_REASON = 'the analysis stopped the process';

/**
 * A SQLite failure as job-store-unavailable (its code, e.g. SQLITE_FULL, says why); anything else
 * unchanged. Recognised by its SQLite result code, not by class: better-sqlite3's native addon throws
 * the SqliteError class of the first copy of the module loaded in the process, which another copy
 * (a test runner's module registry, a bundle) does not see as its own.
 */
function storageError(operation: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  return new KneeTumorError('job-store-unavailable', `the job database cannot ${operation} (${code})`, { cause: error });
}

function guarded<A extends unknown[], R>(operation: string, run: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return run(...args);
    } catch (error) {
      throw storageError(operation, error);
    }
  };
}

export function createJobStore(db: ServiceDatabase, model: string): JobStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS jobs (
      id INTEGER PRIMARY KEY,
      study_uid TEXT NOT NULL,
      model TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
      attempts INTEGER NOT NULL DEFAULT 0,
      not_before INTEGER NOT NULL,
      error_code TEXT,
      error_reason TEXT,
      report TEXT,
      source TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      UNIQUE (study_uid, model)
    );
    CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, not_before);
  `);
  const insert = db.prepare(
    `INSERT INTO jobs (study_uid, model, state, not_before, source, created_at, updated_at)
     VALUES (?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT (study_uid, model) DO NOTHING`,
  );
  const requeueFailed = db.prepare(
    `UPDATE jobs SET state = 'queued', attempts = 0, not_before = ?, error_code = NULL, error_reason = NULL, source = ?, updated_at = ?
     WHERE study_uid = ? AND model = ? AND state = 'failed'`,
  );
  const byStudy = db.prepare<[string, string], JobRow>('SELECT * FROM jobs WHERE study_uid = ? AND model = ?');
  const due = db.prepare<[number], JobRow>(`SELECT * FROM jobs WHERE state = 'queued' AND not_before <= ? ORDER BY not_before, id LIMIT 1`);
  const markRunning = db.prepare(`UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'queued'`);
  const markDone = db.prepare(`UPDATE jobs SET state = 'done', report = ?, error_code = NULL, error_reason = NULL, updated_at = ? WHERE id = ?`);
  const markRetry = db.prepare(`UPDATE jobs SET state = 'queued', not_before = ?, error_code = ?, error_reason = ?, updated_at = ? WHERE id = ?`);
  const markFailed = db.prepare(`UPDATE jobs SET state = 'failed', error_code = ?, error_reason = ?, updated_at = ? WHERE id = ?`);
  const recover = db.prepare(`UPDATE jobs SET state = 'queued', not_before = ?, updated_at = ? WHERE state = 'running' AND attempts < ?`);
  const failCrashed = db.prepare(
    `UPDATE jobs SET state = 'failed', error_code = 'analysis-crashed', error_reason = ? || ' (' || attempts || ' attempts)', updated_at = ? WHERE state = 'running' AND attempts >= ?`,
  );
  const countByState = db.prepare<[], { state: JobState; count: number }>('SELECT state, COUNT(*) AS count FROM jobs GROUP BY state');
  const oldestQueued = db.prepare<[], { since: number | null }>(`SELECT MIN(updated_at) AS since FROM jobs WHERE state = 'queued'`);
  const earliest = db.prepare<[], { due: number | null }>(`SELECT MIN(not_before) AS due FROM jobs WHERE state = 'queued'`);
  // The list travels as one JSON array so that a single statement, prepared once, serves any
  // number of studies (hooks call this on every chart opening).
  const byStudies = db.prepare<[string, string], JobRow>(`SELECT * FROM jobs WHERE model = ? AND study_uid IN (SELECT value FROM json_each(?))`);

  const claim = db.transaction((now: number): Job | undefined => {
    const row = due.get(now);
    if (!row) return undefined;
    markRunning.run(now, row.id);
    return toJob({ ...row, state: 'running', attempts: row.attempts + 1, updated_at: now });
  });
  const enqueue = db.transaction((studyInstanceUid: string, source: TriggerSource, now: number) => {
    const created = insert.run(studyInstanceUid, model, now, source, now, now).changes === 1;
    if (!created) requeueFailed.run(now, source, now, studyInstanceUid, model);
    const row = byStudy.get(studyInstanceUid, model) as JobRow;
    return { job: toJob(row), created };
  });
  const recoverAll = db.transaction((maxAttempts: number, now: number) => ({
    failed: failCrashed.run(PROCESS_STOPPED_REASON, now, maxAttempts).changes,
    requeued: recover.run(now, now, maxAttempts).changes,
  }));

  return {
    model,
    enqueue: guarded('store the job', (studyInstanceUid: string, source: TriggerSource, now = Date.now()) => enqueue(studyInstanceUid, source, now)),
    claimNext: guarded('claim a job', (now = Date.now()) => claim(now)),
    complete: guarded('mark the job done', (id: number, report: string, now = Date.now()) => {
      markDone.run(report, now, id);
    }),
    retryLater: guarded('schedule the retry', (id: number, error: KneeTumorError, notBefore: number, now = Date.now()) => {
      markRetry.run(notBefore, error.code, error.reason, now, id);
    }),
    fail: guarded('mark the job failed', (id: number, error: KneeTumorError, now = Date.now()) => {
      markFailed.run(error.code, error.reason, now, id);
    }),
    recoverInterrupted: guarded('recover interrupted jobs', (maxAttempts: number, now = Date.now()) => recoverAll(maxAttempts, now)),
    forStudy: guarded('read the job', (studyInstanceUid: string) => {
      const row = byStudy.get(studyInstanceUid, model);
      return row ? toJob(row) : undefined;
    }),
    forStudies: guarded('read the jobs', (studyInstanceUids: readonly string[]) => {
      const jobs = new Map<string, Job>();
      if (studyInstanceUids.length === 0) return jobs;
      for (const row of byStudies.all(model, JSON.stringify(studyInstanceUids))) jobs.set(row.study_uid, toJob(row));
      return jobs;
    }),
    nextDue: guarded('read the queue', () => earliest.get()?.due ?? undefined),
    statistics() {
      const byState: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
      for (const { state, count } of countByState.all()) byState[state] = count;
      return { byState, oldestQueuedAt: oldestQueued.get()?.since ?? undefined };
    },
  };
}
