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
  return { caller: { issuer, patient: `Patient/${patient}` }, expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined };
}
