/** The reconciliation watermarks (../watermarks.ts) on the service's SQLite database. */
import type { WatermarkStore } from '../watermarks';
import type { ServiceDatabase } from './database';
import { guarded } from './storage-error';

export function createWatermarkStore(db: ServiceDatabase): WatermarkStore {
  const read = db.prepare<[string], { seen: string }>('SELECT seen FROM reconcile_watermarks WHERE source = ?');
  const write = db.prepare(
    `INSERT INTO reconcile_watermarks (source, seen, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (source) DO UPDATE SET seen = excluded.seen, updated_at = excluded.updated_at`,
  );
  return {
    get: guarded('read the watermark', (source: string) => read.get(source)?.seen),
    set: guarded('store the watermark', (source: string, value: string, now = Date.now()) => {
      write.run(source, value, now);
    }),
  };
}
