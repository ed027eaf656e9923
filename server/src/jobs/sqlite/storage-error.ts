import { KneeTumorError } from '../../errors';

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

/** A synchronous SQLite operation as the store port's asynchronous one, its failures as storageError. */
export function guarded<A extends unknown[], R>(operation: string, run: (...args: A) => R): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return run(...args);
    } catch (error) {
      throw storageError(operation, error);
    }
  };
}
