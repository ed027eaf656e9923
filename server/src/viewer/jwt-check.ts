/**
 * `jwt` mode: the access token is a JWT signed with an asymmetric key of the EHR's authorization
 * server (keys from its JWKS), unexpired, and issued for the EHR's FHIR server (`aud` required).
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenValidation } from '../config';
import { ASYMMETRIC_ALGORITHMS } from '../jwt-algorithms';
import { grantOfClaims, sessionEnded, type TokenGrant } from './token-grant';

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

function audienceOf(payload: JWTPayload): string[] {
  if (payload.aud === undefined) return [];
  return (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).map(withoutTrailingSlash);
}

export function createJwtCheck(config: Extract<TokenValidation, { mode: 'jwt' }>, fhirBaseUrl: string): (token: string) => Promise<TokenGrant> {
  const keys = createRemoteJWKSet(new URL(config.jwksUrl));
  const audience = withoutTrailingSlash(fhirBaseUrl);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: config.issuer, algorithms: ASYMMETRIC_ALGORITHMS, clockTolerance: 5 }));
    } catch (cause) {
      throw sessionEnded(cause instanceof errors.JWTExpired ? 'the session has expired' : 'the access token is not valid', cause);
    }
    if (!audienceOf(payload).includes(audience)) throw sessionEnded('the access token is not issued for the EHR\'s FHIR server (its aud must be smart.fhirBaseUrl)');
    return grantOfClaims(payload, config.issuer);
  };
}
