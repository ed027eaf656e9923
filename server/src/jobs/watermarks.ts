/**
 * The reconciliation watermarks, kept in the job database so that a restart resumes where the
 * last run stopped: per source ("pacs", "fhir"), the newest study date or update time seen.
 */
import type { ServiceDatabase } from './database';

export interface WatermarkStore {
  get(source: string): string | undefined;
  set(source: string, value: string, now?: number): void;
}

export function createWatermarkStore(db: ServiceDatabase): WatermarkStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS reconcile_watermarks (
      source TEXT PRIMARY KEY,
      seen TEXT NOT NULL,
      updated_at INTEGER NOT NULL
    );
  `);
  const read = db.prepare<[string], { seen: string }>('SELECT seen FROM reconcile_watermarks WHERE source = ?');
  const write = db.prepare(
    `INSERT INTO reconcile_watermarks (source, seen, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET seen = excluded.seen, updated_at = excluded.updated_at`,
  );
  return {
    get: (source) => read.get(source)?.seen,
    set(source, value, now = Date.now()) {
      write.run(source, value, now);
    },
  };
}
