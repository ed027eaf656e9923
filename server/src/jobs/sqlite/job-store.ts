/** The job store (../store.ts) on the service's SQLite database. */
import type { AnalysisResult } from '../../domain/analysis';
import type { ErrorCode, KneeTumorError } from '../../errors';
import { PROCESS_STOPPED_REASON, type AttemptRecord, type Job, type JobState, type JobStore, type TriggerSource, type WriterOutcome } from '../store';
import type { ServiceDatabase } from './database';
import { guarded } from './storage-error';

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

interface WriteRow {
  writer: string;
  state: 'written' | 'failed';
  location: string | null;
  error_code: ErrorCode | null;
  error_reason: string | null;
  attempts: number;
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

function toOutcome(row: WriteRow): WriterOutcome {
  return {
    writer: row.writer,
    state: row.state,
    location: row.location ?? undefined,
    errorCode: row.error_code ?? undefined,
    errorReason: row.error_reason ?? undefined,
    attempts: row.attempts,
    updatedAt: row.updated_at,
  };
}

const NOTHING_WRITTEN: AttemptRecord = { writes: [] };

export function createJobStore(db: ServiceDatabase, model: string): JobStore {
  const insert = db.prepare(
    `INSERT INTO jobs (study_uid, model, state, not_before, source, created_at, updated_at)
     VALUES (?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT (study_uid, model) DO NOTHING`,
  );
  const requeueFailed = db.prepare(
    `UPDATE jobs SET state = 'queued', attempts = 0, not_before = ?, error_code = NULL, error_reason = NULL, result = NULL, source = ?, updated_at = ?
     WHERE study_uid = ? AND model = ? AND state = 'failed'`,
  );
  const forgetWrites = db.prepare('DELETE FROM job_writes WHERE job_id = ?');
  const byStudy = db.prepare<[string, string], JobRow>('SELECT * FROM jobs WHERE study_uid = ? AND model = ?');
  const due = db.prepare<[number], JobRow>(`SELECT * FROM jobs WHERE state = 'queued' AND not_before <= ? ORDER BY not_before, id LIMIT 1`);
  const markRunning = db.prepare(`UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'queued'`);
  const markDone = db.prepare(`UPDATE jobs SET state = 'done', report = ?, error_code = NULL, error_reason = NULL, updated_at = ? WHERE id = ?`);
  const markRetry = db.prepare(`UPDATE jobs SET state = 'queued', not_before = ?, error_code = ?, error_reason = ?, updated_at = ? WHERE id = ?`);
  const markFailed = db.prepare(`UPDATE jobs SET state = 'failed', error_code = ?, error_reason = ?, updated_at = ? WHERE id = ?`);
  const saveResult = db.prepare('UPDATE jobs SET result = ? WHERE id = ?');
  const saveWrite = db.prepare(
    `INSERT INTO job_writes (job_id, writer, state, location, error_code, error_reason, attempts, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)
     ON CONFLICT (job_id, writer) DO UPDATE SET state = excluded.state, location = excluded.location, error_code = excluded.error_code,
       error_reason = excluded.error_reason, attempts = job_writes.attempts + 1, updated_at = excluded.updated_at`,
  );
  const resultOf = db.prepare<[number], { result: string | null }>('SELECT result FROM jobs WHERE id = ?');
  const writesOf = db.prepare<[number], WriteRow>('SELECT * FROM job_writes WHERE job_id = ? ORDER BY writer');
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
    const existing = byStudy.get(studyInstanceUid, model) as JobRow;
    if (!created && requeueFailed.run(now, source, now, studyInstanceUid, model).changes === 1) forgetWrites.run(existing.id);
    return { job: toJob(byStudy.get(studyInstanceUid, model) as JobRow), created };
  });
  const recoverAll = db.transaction((maxAttempts: number, now: number) => ({
    failed: failCrashed.run(PROCESS_STOPPED_REASON, now, maxAttempts).changes,
    requeued: recover.run(now, now, maxAttempts).changes,
  }));
  /** The attempt's analysis and writer tries, then the job's new state, as one transaction. */
  const withAttempt = <A extends unknown[]>(setState: (id: number, now: number, ...args: A) => void) =>
    db.transaction((id: number, attempt: AttemptRecord, now: number, ...args: A) => {
      if (attempt.result) saveResult.run(JSON.stringify(attempt.result), id);
      for (const w of attempt.writes) {
        if ('location' in w) saveWrite.run(id, w.writer, 'written', w.location, null, null, now);
        else saveWrite.run(id, w.writer, 'failed', null, w.error.code, w.error.reason, now);
      }
      setState(id, now, ...args);
    });
  const completeAttempt = withAttempt((id, now, report: string | undefined) => markDone.run(report ?? null, now, id));
  const retryAttempt = withAttempt((id, now, error: KneeTumorError, notBefore: number) => markRetry.run(notBefore, error.code, error.reason, now, id));
  const failAttempt = withAttempt((id, now, error: KneeTumorError) => markFailed.run(error.code, error.reason, now, id));

  return {
    model,
    enqueue: guarded('store the job', (studyInstanceUid: string, source: TriggerSource, now = Date.now()) => enqueue(studyInstanceUid, source, now)),
    claimNext: guarded('claim a job', (now = Date.now()) => claim(now)),
    complete: guarded('mark the job done', (id: number, report: string | undefined, attempt = NOTHING_WRITTEN, now = Date.now()) => {
      completeAttempt(id, attempt, now, report);
    }),
    retryLater: guarded('schedule the retry', (id: number, error: KneeTumorError, notBefore: number, attempt = NOTHING_WRITTEN, now = Date.now()) => {
      retryAttempt(id, attempt, now, error, notBefore);
    }),
    fail: guarded('mark the job failed', (id: number, error: KneeTumorError, attempt = NOTHING_WRITTEN, now = Date.now()) => {
      failAttempt(id, attempt, now, error);
    }),
    progress: guarded('read the job progress', (id: number) => {
      const stored = resultOf.get(id)?.result;
      return { result: stored ? (JSON.parse(stored) as AnalysisResult) : undefined, writers: writesOf.all(id).map(toOutcome) };
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
    statistics: guarded('count the jobs', () => {
      const byState: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
      for (const { state, count } of countByState.all()) byState[state] = count;
      return { byState, oldestQueuedAt: oldestQueued.get()?.since ?? undefined };
    }),
  };
}
