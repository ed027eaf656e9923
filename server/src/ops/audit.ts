/**
 * The audit trail, apart from the operational log: who viewed which study's images, which tokens
 * were refused (CDS clients and the viewer), and the feedback given. One JSON object per line,
 * appended to operations.auditLogPath (or written to stdout when unset). Ids only: issuers,
 * users, study and report ids, error codes; never patient names, birth dates, MRNs or patient ids.
 */
import { createWriteStream } from 'node:fs';
import type { Log } from '../log';

export interface AuditTrail {
  record: Log;
  /** Flushes and closes the file (stdout is left open). */
  close(): Promise<void>;
}

/** `log`: the operational log, told once when the file cannot be written. */
export function createAuditTrail(file: string | undefined, log: Log): AuditTrail {
  if (!file) {
    return {
      record: (event, fields = {}) => void process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), audit: event, ...fields })}\n`),
      close: async () => undefined,
    };
  }
  const stream = createWriteStream(file, { flags: 'a', mode: 0o640 });
  // A trail that cannot be written must not take the service down; the operational log says why.
  stream.once('error', (error: NodeJS.ErrnoException) => log('audit-log-unwritable', { file, code: error.code ?? error.message }));
  return {
    record(event, fields = {}) {
      if (!stream.writable) return;
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), audit: event, ...fields })}\n`);
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
