/**
 * `jwt` mode: the access token is a JWT signed with an asymmetric key of the EHR's authorization
 * server (keys from its JWKS), unexpired, issued for the EHR's FHIR server (`aud` required), and
 * living no longer than smart.maxTokenLifetimeSeconds (a token valid for years is refused). Only
 * an expired token ends the session; a token this mode cannot validate (a secret's signature, an
 * unknown key, another issuer, an opaque token) is the set-up's mismatch, `token-unverifiable`.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenValidation } from '../config';
import { KneeTumorError } from '../errors';
import { ASYMMETRIC_ALGORITHMS } from '../jwt-algorithms';
import { assertLifetime, grantOfClaims, sessionEnded, tokenUnverifiable, type TokenGrant } from './token-grant';

type JwtSettings = Extract<TokenValidation, { mode: 'jwt' }>;

const MODE = 'smart.tokenValidation.mode jwt';
const OTHER_MODES = 'for this EHR\'s tokens set smart.tokenValidation.mode introspection or fhir';

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

function audienceOf(payload: JWTPayload): string[] {
  if (payload.aud === undefined) return [];
  return (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).map(withoutTrailingSlash);
}

/** The `alg` a token's header states, for the reason only (no key is chosen from it). */
function statedAlgorithm(token: string): string {
  try {
    return String(decodeProtectedHeader(token).alg);
  } catch {
    return 'an unreadable algorithm';
  }
}

/** What a failed verification means: an ended session, our outage, or a set-up that cannot check this EHR's tokens. */
function refusal(cause: unknown, token: string, settings: JwtSettings): KneeTumorError {
  if (cause instanceof errors.JWTExpired) return sessionEnded('the session has expired', cause);
  if (cause instanceof errors.JWKSTimeout || !(cause instanceof errors.JOSEError)) {
    return new KneeTumorError('token-check-unavailable', `the JWKS at ${settings.jwksUrl} cannot be read`, { cause });
  }
  if (cause instanceof errors.JOSEAlgNotAllowed) {
    return tokenUnverifiable(`the access token is signed with ${statedAlgorithm(token)}; ${MODE} verifies only asymmetric signatures with the keys at smart.tokenValidation.jwksUrl: ${OTHER_MODES}`, cause);
  }
  if (cause instanceof errors.JWSInvalid || cause instanceof errors.JWTInvalid) {
    return tokenUnverifiable(`the access token is not a signed JWT; ${MODE} checks only JWTs: ${OTHER_MODES}`, cause);
  }
  if (cause instanceof errors.JWKSNoMatchingKey) {
    return tokenUnverifiable(`the access token's signing key is not in the JWKS at ${settings.jwksUrl}: set smart.tokenValidation.jwksUrl to the issuer's JWKS, or ${OTHER_MODES}`, cause);
  }
  if (cause instanceof errors.JWTClaimValidationFailed && cause.claim === 'iss') {
    return tokenUnverifiable(`the access token's issuer is not ${settings.issuer}: set smart.tokenValidation.issuer and jwksUrl to the EHR's authorization server, or ${OTHER_MODES}`, cause);
  }
  if (cause instanceof errors.JWSSignatureVerificationFailed) {
    return tokenUnverifiable(`the access token's signature does not verify with the keys at ${settings.jwksUrl}: set smart.tokenValidation.jwksUrl to the issuer's JWKS, or ${OTHER_MODES}`, cause);
  }
  return tokenUnverifiable(`${MODE} cannot verify the access token (${cause.message}): ${OTHER_MODES}`, cause);
}

export function createJwtCheck(settings: JwtSettings, fhirBaseUrl: string, maxLifetimeSeconds: number): (token: string) => Promise<TokenGrant> {
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl));
  const audience = withoutTrailingSlash(fhirBaseUrl);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: settings.issuer, algorithms: ASYMMETRIC_ALGORITHMS, requiredClaims: ['exp'], clockTolerance: 5 }));
    } catch (cause) {
      throw refusal(cause, token, settings);
    }
    if (!audienceOf(payload).includes(audience)) {
      throw tokenUnverifiable(`the access token is not issued for ${audience} (its aud must name smart.fhirBaseUrl): set smart.fhirBaseUrl to the FHIR server the EHR issues the app's tokens for`);
    }
    assertLifetime(payload, maxLifetimeSeconds);
    return grantOfClaims(payload, settings.issuer);
  };
}
