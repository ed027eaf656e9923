/**
 * What every token check concludes, whatever the mode: who the token is for (the launch patient,
 * from the token's own claims) and that it allows patient-level reads of imaging.
 */
import { KneeTumorError } from '../errors';

/** SMART v2 `.rs` and its v1 spelling `.read` both allow reading; a wildcard resource too. */
const IMAGING_READ = /^patient\/(ImagingStudy|\*)\.(rs|read|\*|cruds)$/;

export interface SmartCaller {
  /** Who vouched for the token: the authorization server, the introspection endpoint or the FHIR server. */
  issuer: string;
  /** "Patient/<id>": the patient the clinician launched the app for. */
  patient: string;
  /** Who holds the token (its `fhirUser`, else its `sub`), for the audit trail, when the token says. */
  user?: string;
}

/** A token's check: who it is for, and when it expires (seconds since the epoch), when known. */
export interface TokenGrant {
  caller: SmartCaller;
  expiresAt?: number;
}

/** The app says "Your session has ended" for this code, and only for it. */
export function sessionEnded(reason: string, cause?: unknown): KneeTumorError {
  return new KneeTumorError('session-expired', reason, { cause });
}

/**
 * A token this deployment's check cannot validate (another algorithm, key, issuer, audience or
 * form than configured): the set-up differs from the EHR's, and opening the viewer again repeats it.
 */
export function tokenUnverifiable(reason: string, cause?: unknown): KneeTumorError {
  return new KneeTumorError('token-unverifiable', reason, { cause });
}

/** The launch patient of a token's claims: SMART's `patient`, or a launcher's nested `context.patient`. */
export function patientClaim(claims: Record<string, unknown>): string | undefined {
  const nested = claims.context;
  const value = claims.patient ?? (typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>).patient : undefined);
  return typeof value === 'string' && value !== '' ? value.replace(/^Patient\//, '') : undefined;
}

/** The grant of a token whose claims (JWT payload or introspection answer) are trusted. */
export function grantOfClaims(claims: Record<string, unknown>, issuer: string): TokenGrant {
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/) : [];
  if (!scopes.some((s) => IMAGING_READ.test(s))) {
    throw new KneeTumorError('forbidden', 'the access token does not allow reading imaging studies: the app must be granted patient/ImagingStudy.rs (smart.app.scope)');
  }
  const patient = patientClaim(claims);
  if (!patient) throw new KneeTumorError('forbidden', 'the access token has no patient context: launch the viewer from a patient\'s chart');
  const user = [claims.fhirUser, claims.sub].find((u): u is string => typeof u === 'string' && u !== '');
  return { caller: { issuer, patient: `Patient/${patient}`, ...(user ? { user } : {}) }, expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined };
}

/** What a request to /app-api brings: the token and the study it asks for (never the patient: that is the token's). */
export interface AccessRequest {
  token?: string;
  studyInstanceUid?: string;
}

export type SmartAuthenticator = (request: AccessRequest) => Promise<SmartCaller>;

/**
 * Refuses a token that lives longer than `maxSeconds` (the EHR issues longer tokens than configured): from its `iat` to its `exp`, or from now
 * when it gives no `iat` (a token valid for a century would otherwise be honoured for one).
 */
export function assertLifetime(claims: { exp?: unknown; iat?: unknown }, maxSeconds: number, nowSeconds = Date.now() / 1000): void {
  if (typeof claims.exp !== 'number') return;
  const from = typeof claims.iat === 'number' ? claims.iat : nowSeconds;
  const lifetime = Math.round(claims.exp - from);
  if (lifetime > maxSeconds) {
    throw tokenUnverifiable(`the access token lives ${lifetime} s, longer than the ${maxSeconds} s accepted: set smart.maxTokenLifetimeSeconds to the EHR's token lifetime, or shorten it in the EHR`);
  }
}
