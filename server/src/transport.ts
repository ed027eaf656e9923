/**
 * What an HTTP answer from another system (PACS, FHIR server) means for us: worth trying again
 * later, a refusal of our credentials (only a configuration change helps), or a refusal of what we
 * sent. Both clients decide from the status alone, before they read a body that a proxy may have
 * replaced with an HTML page or cut short.
 */

export type AnswerKind = 'ok' | 'transient' | 'unauthorized' | 'rejected';

/** 408 Request Timeout, 425 Too Early, 429 Too Many Requests and every 5xx say "later". */
export function answerKind(status: number): AnswerKind {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient';
  if (status === 401 || status === 403) return 'unauthorized';
  return 'rejected';
}

/** Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
