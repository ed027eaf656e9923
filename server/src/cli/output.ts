/** How the command-line tool reports: results on stdout, problems on stderr, exit codes by kind. */
import { isKneeTumorError, type KneeTumorError } from '../errors';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  /** The input does not fit the method or cannot be read: retrying will not help. */
  refused: 3,
  /** A server is down or failing: the same command may succeed later. */
  retryLater: 4,
} as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Problems of our own set-up, as opposed to problems with the input. */
const SETUP_PROBLEMS: ReadonlySet<KneeTumorError['code']> = new Set(['config-invalid', 'model-invalid', 'execution-provider-unavailable', 'internal']);

export function exitCodeFor(error: KneeTumorError): number {
  if (error.retryable) return EXIT.retryLater;
  return SETUP_PROBLEMS.has(error.code) ? EXIT.internal : EXIT.refused;
}

/** node:util parseArgs throws these for an unknown option or a missing value. */
function isArgumentError(error: unknown): error is Error {
  return error instanceof Error && String((error as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
}

/** Prints an error the way every subcommand does, with JSON on stdout when asked for JSON. */
export function reportFailure(error: unknown, json: boolean): number {
  if (error instanceof UsageError || isArgumentError(error)) {
    process.stderr.write(`knee-tumor: ${error.message}\n`);
    return EXIT.usage;
  }
  if (isKneeTumorError(error)) {
    if (json) process.stdout.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
    process.stderr.write(`knee-tumor: ${error.code}: ${error.reason}\n`);
    return exitCodeFor(error);
  }
  process.stderr.write(`knee-tumor: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.internal;
}
