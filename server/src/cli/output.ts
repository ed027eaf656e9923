/**
 * How the command-line tool reports: results on stdout, problems on stderr, every line made safe
 * for a terminal, and one table of exit codes that every subcommand uses.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import { isKneeTumorError, KneeTumorError, type ErrorCode, messageOf } from '../errors';

export const EXIT = {
  ok: 0,
  /** Our own set-up (configuration, model, where the output goes) or a bug: fix, then run again. */
  setup: 1,
  /** The command line itself is wrong: see the usage. */
  usage: 2,
  /** The input does not fit the method or cannot be read: retrying will not help. */
  refused: 3,
  /** A server is down or failing: the same command may succeed later. */
  retryLater: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every error code's exit code; a new code must be placed here before it compiles. */
const EXIT_FOR_ERROR: Record<ErrorCode, ExitCode> = {
  'config-invalid': EXIT.setup,
  'model-invalid': EXIT.setup,
  'execution-provider-unavailable': EXIT.setup,
  'output-unwritable': EXIT.setup,
  internal: EXIT.setup,
  'study-not-found': EXIT.refused,
  'view-missing': EXIT.refused,
  'not-radiograph': EXIT.refused,
  'not-knee': EXIT.refused,
  'study-inconsistent': EXIT.refused,
  'dicom-unreadable': EXIT.refused,
  'unsupported-transfer-syntax': EXIT.refused,
  'pixel-data-invalid': EXIT.refused,
  'dicom-inconsistent': EXIT.refused,
  'image-too-large': EXIT.refused,
  'image-implausible': EXIT.refused,
  'bad-request': EXIT.refused,
  'payload-too-large': EXIT.refused,
  'unsupported-media-type': EXIT.refused,
  'imaging-study-not-in-fhir': EXIT.retryLater,
  'pacs-unreachable': EXIT.retryLater,
  'pacs-error': EXIT.retryLater,
  'pacs-rejected': EXIT.refused,
  'pacs-unauthorized': EXIT.setup,
  'fhir-unreachable': EXIT.retryLater,
  'fhir-error': EXIT.retryLater,
  'fhir-rejected': EXIT.refused,
  'fhir-unauthorized': EXIT.setup,
  'fhir-invalid': EXIT.setup,
  unauthorized: EXIT.setup,
  forbidden: EXIT.setup,
  'not-found': EXIT.refused,
  conflict: EXIT.refused,
  'prefetch-unavailable': EXIT.retryLater,
  'cds-client-keys-unavailable': EXIT.retryLater,
  'session-expired': EXIT.setup,
  'token-unverifiable': EXIT.setup,
  'patient-mismatch': EXIT.refused,
  'introspection-unauthorized': EXIT.setup,
  'token-check-unavailable': EXIT.retryLater,
  'job-store-unavailable': EXIT.retryLater,
  'analysis-limit-exceeded': EXIT.refused,
  'analysis-crashed': EXIT.refused,
};

/**
 * What must not reach a terminal raw: C0 controls (a newline inside a line is data too), DEL, C1,
 * and the bidi overrides and isolates that reorder a line. In a DICOM string, a file name or a
 * reason they could move the cursor, erase a line and draw another ("no tumor detected").
 */
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A line with every character unsafe for a terminal written as its visible escape (`\u001b`). */
export function terminalSafe(line: string): string {
  return line.replace(UNSAFE_FOR_TERMINAL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The one way the CLI writes text: each line made terminal-safe, then the newline we mean. */
function printLines(stream: NodeJS.WritableStream, lines: readonly string[]): void {
  stream.write(lines.map((line) => `${terminalSafe(line)}\n`).join(''));
}

export const printOut = (...lines: string[]): void => printLines(process.stdout, lines);
export const printErr = (...lines: string[]): void => printLines(process.stderr, lines);

/**
 * JSON on stdout. JSON.stringify escapes C0 inside strings but not DEL, C1 or bidi controls;
 * escaped line by line they become `\u` escapes that JSON reads back as the same text.
 */
export function printJson(value: unknown): void {
  printOut(...JSON.stringify(value, null, 2).split('\n'));
}

/** The CLI's own text of several lines (a usage), as lines. */
export function ownLines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeFor(error: KneeTumorError): ExitCode {
  return EXIT_FOR_ERROR[error.code];
}

/** A numeric option, or a usage error that says what the option must be. */
export function numberOption(name: string, text: string | undefined, valid: (value: number) => boolean, rule: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !valid(value)) throw new UsageError(`--${name} must be ${rule}, got "${text}"`);
  return value;
}

/** A choice option, or a usage error that lists the choices. */
export function choiceOption<T extends string>(name: string, text: string | undefined, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${text}"`);
  return text as T;
}

/** Creates the output folder and checks it is writable before any work is done. */
export async function prepareOutputFolder(folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (cause) {
    throw new KneeTumorError('output-unwritable', `cannot write to ${folder}: ${(cause as NodeJS.ErrnoException).code ?? messageOf(cause)}`, { cause });
  }
}

/** node:util parseArgs throws these for an unknown option or a missing value. */
function isArgumentError(error: unknown): error is Error {
  return error instanceof Error && String((error as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
}

/** Prints an error the way every subcommand does, with JSON on stdout when asked for JSON. */
export function reportFailure(error: unknown, json: boolean, usage?: string): ExitCode {
  if (error instanceof UsageError || isArgumentError(error)) {
    // Our own words (a usage may follow on its lines) around the arguments as typed.
    printErr(...ownLines(`knee-tumor: ${error.message}`), ...(usage ? ownLines(usage) : []));
    return EXIT.usage;
  }
  if (isKneeTumorError(error)) {
    if (json) printJson({ error: error.toJSON() });
    printErr(`knee-tumor: ${error.code}: ${error.reason}`);
    return exitCodeFor(error);
  }
  printErr(`knee-tumor: internal error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.setup;
}
