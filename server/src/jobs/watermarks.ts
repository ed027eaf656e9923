/**
 * The reconciliation watermarks, kept in the job database so that a restart resumes where the
 * last run stopped: per source ("pacs", "fhir"), the newest study date or update time seen. A
 * port: the SQLite adapter is in ./sqlite/.
 */
export interface WatermarkStore {
  get(source: string): Promise<string | undefined>;
  set(source: string, value: string, now?: number): Promise<void>;
}
