/**
 * The service's embedded SQLite database (jobs and card feedback). WAL lets a hook read while the
 * worker writes; the busy timeout lets two processes on the same file wait instead of failing.
 */
import Database from 'better-sqlite3';

export type ServiceDatabase = Database.Database;

export function openDatabase(file: string): ServiceDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  return db;
}
