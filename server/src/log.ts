/**
 * Structured log lines. Callers pass codes, UIDs, ids and counts only: never patient names,
 * PatientID, birth dates or tokens.
 */
import { appendFileSync } from 'node:fs';

export type LogFields = Record<string, string | number | boolean | undefined>;
export type Log = (event: string, fields?: LogFields) => void;

const logLine = (event: string, fields: LogFields) => `${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`;

/** One JSON object per line on stderr. */
export const jsonLog: Log = (event, fields = {}) => {
  process.stderr.write(logLine(event, fields));
};

/** The same lines appended to a file (the demo keeps its console for people). */
export function jsonFileLog(file: string): Log {
  return (event, fields = {}) => appendFileSync(file, logLine(event, fields), { mode: 0o640 });
}

export const silentLog: Log = () => undefined;
