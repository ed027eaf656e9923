/**
 * What an /app-api refusal means for the clinician, from the server's JSON error
 * (`{ code, reason }`, codes defined once in server/src/errors.ts): the session has ended (open the
 * viewer again from the chart), the service cannot check this EHR's tokens, or the server refuses
 * access because of how it is set up (in both, the reason says what the integrator must
 * configure). Anything else is a failure of one request. And the app's own refusal: a resource the
 * EHR's FHIR server returned is not the launch patient's.
 */
import type { ErrorCode } from '../../server/src/errors';

export class SessionExpiredError extends Error {
  constructor() {
    super('The session has expired.');
  }
}

export class AccessRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
  }
}

/** The service's token check cannot validate this EHR's tokens: reopening repeats it. */
export class TokenUnverifiableError extends Error {
  constructor(reason: string) {
    super(reason);
  }
}

/** A study, report or result the FHIR server returned belongs to another patient than the launch's: nothing of it is shown. */
export class NotThisPatientError extends Error {
  constructor(what: string) {
    super(`The ${what} is not this patient's study: the EHR's FHIR server returned another patient's data, so nothing of it is shown.`);
  }
}

/** The only codes after which reopening the viewer from the chart helps. */
const SESSION_ENDED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['session-expired']);
/** Refusals that come from the set-up of the service or the EHR, whatever their HTTP status. */
const SET_UP: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['forbidden', 'patient-mismatch', 'introspection-unauthorized', 'unauthorized']);

function errorBody(body: unknown): { code?: string; reason?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { code, reason } = body as Record<string, unknown>;
  return { code: typeof code === 'string' ? code : undefined, reason: typeof reason === 'string' ? reason : undefined };
}

/** The error an /app-api answer stands for (pure). */
export function apiError(path: string, status: number, body: unknown): Error {
  const { code, reason } = errorBody(body);
  if (code && SESSION_ENDED.has(code as ErrorCode)) return new SessionExpiredError();
  if (code === ('token-unverifiable' satisfies ErrorCode)) return new TokenUnverifiableError(reason ?? `${path} answered HTTP ${status}: the access token cannot be checked`);
  if (status === 401 || status === 403 || (code && SET_UP.has(code as ErrorCode))) {
    return new AccessRefusedError(reason ?? `${path} answered HTTP ${status} without saying why`);
  }
  return new Error(`${path} answered HTTP ${status}${reason ? `: ${reason}` : ''}`);
}
