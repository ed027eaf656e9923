/**
 * Checks the SMART access token the viewer app presents: a JWT signed by the configured
 * authorization server (keys from its JWKS, asymmetric algorithms only), not expired, issued for
 * the EHR's FHIR server when it names an audience, with a patient context and patient-level read
 * access to imaging. The app never holds PACS credentials; this token is all it has.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { SmartConfig } from '../config';
import { KneeTumorError } from '../errors';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** SMART v2 `.rs` and its v1 spelling `.read` both allow reading; a wildcard resource too. */
const IMAGING_READ = /^patient\/(ImagingStudy|\*)\.(rs|read|\*|cruds)$/;

export interface SmartCaller {
  issuer: string;
  /** "Patient/<id>": the patient the clinician launched the app for. */
  patient: string;
}

export type SmartAuthenticator = (token: string | undefined) => Promise<SmartCaller>;

function expired(reason: string, cause?: unknown): KneeTumorError {
  return new KneeTumorError('unauthorized', reason, { cause });
}

function audienceOf(payload: JWTPayload): string[] {
  if (payload.aud === undefined) return [];
  return Array.isArray(payload.aud) ? payload.aud : [payload.aud];
}

export function createSmartAuthenticator(config: SmartConfig): SmartAuthenticator {
  const keys = createRemoteJWKSet(new URL(config.jwksUrl));
  const fhirBase = config.fhirBaseUrl.replace(/\/+$/, '');
  return async (token) => {
    if (!token) throw expired('a SMART access token is required');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: config.issuer, algorithms: ALGORITHMS, clockTolerance: 5 }));
    } catch (cause) {
      throw expired(cause instanceof errors.JWTExpired ? 'the session has expired' : 'the access token is not valid', cause);
    }
    const audience = audienceOf(payload).map((a) => a.replace(/\/+$/, ''));
    if (audience.length > 0 && !audience.includes(fhirBase)) throw expired('the access token is for another FHIR server');
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.some((s) => IMAGING_READ.test(s))) throw new KneeTumorError('forbidden', 'the access token does not allow reading imaging studies');
    if (typeof payload.patient !== 'string' || !payload.patient) throw new KneeTumorError('forbidden', 'the access token has no patient context');
    return { issuer: config.issuer, patient: `Patient/${payload.patient}` };
  };
}
