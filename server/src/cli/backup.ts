/**
 * `knee-tumor backup --out FILE`: a consistent copy of the job database (jobs, card feedback,
 * reconciliation watermarks) taken with SQLite's online backup while the service keeps running,
 * then checked (integrity_check) so that a copy that cannot be restored is never reported as one.
 * The database is jobs.databasePath of the configuration (KNEE_TUMOR_CONFIG, KNEE_TUMOR_JOBS_DB)
 * unless --database names it.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig } from '../config';
import { KneeTumorError, messageOf } from '../errors';
import { EXIT, printJson, printOut, reportFailure, UsageError } from './output';

export const BACKUP_USAGE = 'knee-tumor backup --out <file.sqlite> [--database <jobs.sqlite>] [--json]';

async function backup(database: string, out: string): Promise<{ pages: number; jobs: number }> {
  if (!existsSync(database)) throw new KneeTumorError('config-invalid', `there is no job database at ${database} (jobs.databasePath, KNEE_TUMOR_JOBS_DB)`);
  // Never over another file: an old backup may be the only good one.
  if (existsSync(out)) throw new KneeTumorError('output-unwritable', `${out} exists already; give a new file`);
  const source = new Database(database, { fileMustExist: true });
  let pages: number;
  try {
    source.pragma('busy_timeout = 5000');
    ({ totalPages: pages } = await source.backup(out));
  } catch (cause) {
    throw new KneeTumorError('output-unwritable', `cannot back up ${database} to ${out}: ${messageOf(cause)}`, { cause });
  } finally {
    source.close();
  }
  const copy = new Database(out, { readonly: true, fileMustExist: true });
  try {
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new KneeTumorError('output-unwritable', `the backup ${out} does not pass integrity_check: ${String(integrity)}`);
    const hasJobs = copy.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'`).get() !== undefined;
    const jobs = hasJobs ? (copy.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n : 0;
    return { pages, jobs };
  } finally {
    copy.close();
  }
}

export async function backupCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let json = false;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, database: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals: false,
    });
    json = values.json;
    if (values.help) {
      printOut(`usage: ${BACKUP_USAGE}`);
      return EXIT.ok;
    }
    if (!values.out) throw new UsageError('--out is required');
    const database = values.database ?? loadConfig(env).jobs.databasePath;
    const { pages, jobs } = await backup(database, values.out);
    const summary = { database, out: values.out, pages, jobs };
    if (json) printJson(summary);
    else printOut(`backed up ${database} to ${values.out}: ${pages} pages, ${jobs} jobs, integrity ok`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, json, `usage: ${BACKUP_USAGE}`);
  }
}
