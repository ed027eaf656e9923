/**
 * The service's embedded SQLite database (jobs, card feedback, watermarks). WAL lets a hook read
 * while the worker writes; the busy timeout lets two processes on the same file wait instead of
 * failing. Opening it brings its schema up to date (./migrations.ts).
 */
import Database from 'better-sqlite3';
import { migrate } from './migrations';

export type ServiceDatabase = Database.Database;

export function openDatabase(file: string): ServiceDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db, file);
  return db;
}
