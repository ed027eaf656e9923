/**
 * Structured log lines. Callers pass codes, UIDs, ids and counts only: never patient names,
 * PatientID, birth dates or tokens.
 */
export type LogFields = Record<string, string | number | boolean | undefined>;
export type Log = (event: string, fields?: LogFields) => void;

/** One JSON object per line on stderr. */
export const jsonLog: Log = (event, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
};

export const silentLog: Log = () => undefined;
