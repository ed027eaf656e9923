/**
 * `jwt` mode: the access token is a JWT signed with an asymmetric key of the EHR's authorization
 * server (keys from its JWKS), unexpired, issued for the EHR's FHIR server (`aud` required), and
 * living no longer than smart.maxTokenLifetimeSeconds (a token valid for years is refused).
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenValidation } from '../config';
import { ASYMMETRIC_ALGORITHMS } from '../jwt-algorithms';
import { assertLifetime, grantOfClaims, sessionEnded, type TokenGrant } from './token-grant';

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

function audienceOf(payload: JWTPayload): string[] {
  if (payload.aud === undefined) return [];
  return (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).map(withoutTrailingSlash);
}

export function createJwtCheck(config: Extract<TokenValidation, { mode: 'jwt' }>, fhirBaseUrl: string, maxLifetimeSeconds: number): (token: string) => Promise<TokenGrant> {
  const keys = createRemoteJWKSet(new URL(config.jwksUrl));
  const audience = withoutTrailingSlash(fhirBaseUrl);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: config.issuer, algorithms: ASYMMETRIC_ALGORITHMS, requiredClaims: ['exp'], clockTolerance: 5 }));
    } catch (cause) {
      throw sessionEnded(cause instanceof errors.JWTExpired ? 'the session has expired' : 'the access token is not valid', cause);
    }
    if (!audienceOf(payload).includes(audience)) throw sessionEnded('the access token is not issued for the EHR\'s FHIR server (its aud must be smart.fhirBaseUrl)');
    assertLifetime(payload, maxLifetimeSeconds);
    return grantOfClaims(payload, config.issuer);
  };
}
