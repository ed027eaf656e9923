/**
 * The job database's schema, as numbered migrations recorded in schema_version. Migration 1 is
 * the schema the service created before versions were kept (CREATE ... IF NOT EXISTS, unchanged),
 * so a database made by that code is upgraded in place; later migrations only add. An existing
 * database is copied (VACUUM INTO, next to it) before it is upgraded, and each run of migrations
 * is one immediate transaction, so two processes opening the same file never both apply one.
 */
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS jobs (
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
    );`,
  // The analysis result (JSON) with its job, and each result writer's outcome.
  `ALTER TABLE jobs ADD COLUMN result TEXT;
    CREATE TABLE job_writes (
      job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
      writer TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('written', 'failed')),
      location TEXT,
      error_code TEXT,
      error_reason TEXT,
      attempts INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (job_id, writer)
    );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).get();
  if (!table) return 0;
  return (db.prepare('SELECT MAX(version) AS version FROM schema_version').get() as { version: number | null }).version ?? 0;
}

/** Whether the file holds the service's tables from before this version (not a new, empty database). */
function holdsData(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'`).get() !== undefined;
}

/** Where the copy taken before upgrading `file` from `version` goes. */
export function upgradeBackupPath(file: string, version: number): string {
  return `${file}.schema-${version}.bak`;
}

/** Brings the database to SCHEMA_VERSION; returns the backup taken first, if any. */
export function migrate(db: Database.Database, file: string): { from: number; backup?: string } {
  const from = schemaVersion(db);
  if (from >= SCHEMA_VERSION) return { from };
  let backup: string | undefined;
  if (file !== ':memory:' && holdsData(db)) {
    backup = upgradeBackupPath(file, from);
    // A copy left by an upgrade that did not finish is the older one: keep it.
    if (!existsSync(backup)) db.prepare('VACUUM INTO ?').run(backup);
  }
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const record = db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
    for (let version = schemaVersion(db) + 1; version <= SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version - 1] as string);
      record.run(version, Date.now());
    }
  }).immediate();
  return { from, backup };
}
