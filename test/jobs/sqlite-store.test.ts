/**
 * The SQLite adapter of the job, feedback and watermark stores: the store contract, and the
 * schema migrations (a database made by the code before versioned migrations is upgraded in place,
 * after a copy is taken).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type ServiceDatabase } from '../../server/src/jobs/sqlite/database';
import { createFeedbackStore } from '../../server/src/jobs/sqlite/feedback-store';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';
import { SCHEMA_VERSION, schemaVersion, upgradeBackupPath } from '../../server/src/jobs/sqlite/migrations';
import { createWatermarkStore } from '../../server/src/jobs/sqlite/watermark-store';
import { sampleAnalysis } from '../support/analysis-fixture';
import { storeContract, type StorageUnderTest } from './store-contract';

const freshFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'jobs-')), 'jobs.sqlite');

async function sqliteStorage(): Promise<StorageUnderTest> {
  const file = freshFile();
  const open: ServiceDatabase[] = [];
  return {
    async open(model) {
      const db = openDatabase(file);
      open.push(db);
      return { jobs: createJobStore(db, model), feedback: createFeedbackStore(db, model), watermarks: createWatermarkStore(db) };
    },
    async fill() {
      // SQLite's own limit on the file's pages: the next page needed fails with SQLITE_FULL, as a full disk does.
      for (const db of open) db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    },
    async close() {
      for (const db of open.splice(0)) db.close();
    },
  };
}

storeContract('SQLite', sqliteStorage);

/** The tables exactly as the service created them before versioned migrations (schema version 0). */
const UNVERSIONED_SCHEMA = `
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
  CREATE TABLE IF NOT EXISTS card_feedback (
    id INTEGER PRIMARY KEY,
    service_id TEXT NOT NULL,
    card TEXT NOT NULL,
    outcome TEXT NOT NULL,
    override_reason TEXT,
    outcome_timestamp TEXT NOT NULL,
    model TEXT NOT NULL,
    issuer TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS reconcile_watermarks (
    source TEXT PRIMARY KEY,
    seen TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  INSERT INTO jobs (study_uid, model, state, attempts, not_before, report, source, created_at, updated_at)
    VALUES ('1.7.1', 'knee-tumor@1.0.0', 'done', 1, 10, 'DiagnosticReport/41', 'orthanc', 10, 20);
  INSERT INTO jobs (study_uid, model, state, attempts, not_before, error_code, error_reason, source, created_at, updated_at)
    VALUES ('1.7.2', 'knee-tumor@1.0.0', 'queued', 1, 30, 'fhir-unreachable', 'down', 'http', 10, 30);
  INSERT INTO card_feedback (service_id, card, outcome, override_reason, outcome_timestamp, model, issuer, received_at)
    VALUES ('knee-tumor-cds', 'c1', 'overridden', 'disagree', '2024-05-01T10:00:00Z', 'knee-tumor@1.0.0', 'https://ehr.example', 40);
  INSERT INTO reconcile_watermarks (source, seen, updated_at) VALUES ('pacs', '20240501', 50);
`;

describe('job database schema (SQLite)', () => {
  it('upgrades a database made before versioned migrations in place, after a copy, its rows still there and usable', async () => {
    const file = freshFile();
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(UNVERSIONED_SCHEMA);
    old.close();

    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    const backup = new Database(upgradeBackupPath(file, 0), { readonly: true });
    expect([schemaVersion(backup), (backup.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n]).toEqual([0, 2]);
    backup.close();

    const jobs = createJobStore(db, 'knee-tumor@1.0.0');
    expect(await jobs.forStudy('1.7.1')).toMatchObject({ state: 'done', attempts: 1, report: 'DiagnosticReport/41', source: 'orthanc' });
    expect(await jobs.forStudy('1.7.2')).toMatchObject({ state: 'queued', attempts: 1, errorCode: 'fhir-unreachable', notBefore: 30 });
    expect(await createFeedbackStore(db, 'unused').all()).toEqual([expect.objectContaining({ card: 'c1', overrideReason: 'disagree', model: 'knee-tumor@1.0.0' })]);
    expect(await createWatermarkStore(db).get('pacs')).toBe('20240501');

    const claimed = await jobs.claimNext(100);
    expect(claimed).toMatchObject({ studyInstanceUid: '1.7.2', attempts: 2 });
    const result = sampleAnalysis({ studyInstanceUid: '1.7.2' });
    await jobs.complete(claimed?.id as number, 'DiagnosticReport/42', { result, writes: [{ writer: 'fhir', location: 'DiagnosticReport/42' }] });
    expect(await jobs.progress(claimed?.id as number)).toMatchObject({ result, writers: [{ writer: 'fhir', state: 'written', attempts: 1 }] });
    expect((await jobs.enqueue('1.7.3', 'http')).created).toBe(true);
    db.close();

    // Opened again (a restart, or a second process): nothing to apply, nothing copied again.
    const reopened = openDatabase(file);
    expect((reopened.prepare('SELECT version FROM schema_version ORDER BY version').all() as { version: number }[]).map((r) => r.version)).toEqual([1, 2]);
    reopened.close();
  });

  it('creates a new database at the current version without a copy', async () => {
    const file = freshFile();
    const db = openDatabase(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(existsSync(upgradeBackupPath(file, 0))).toBe(false);
    expect(await createJobStore(db, 'knee-tumor@1.0.0').statistics()).toMatchObject({ byState: { queued: 0, running: 0, done: 0, failed: 0 } });
    db.close();
  });
});
