/**
 * CDS client authentication (CDS Hooks 2.0): a JWT signed with an asymmetric key by an issuer on
 * our allow-list, verified against that issuer's configured JWKS (a URL or a static key set; a
 * token's `jku` is only accepted when it equals the configured URL and is never fetched
 * otherwise), for this service's URL as `aud`, not expired, not older than maxTokenAge, and never
 * seen before (`jti`).
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { CdsClientConfig } from '../server/src/config';
import { KneeTumorError } from '../server/src/errors';
import { JtiCache } from './jti-cache';

/** Asymmetric algorithms only: never "none", never HMAC (a shared secret would let anyone who knows it sign). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface CdsCaller {
  issuer: string;
  tenant?: string;
}

/** `audience`: the URLs this call may be addressed to (the service endpoint, or its feedback URL). */
export type CdsAuthenticator = (token: string | undefined, audience: string | string[]) => Promise<CdsCaller>;

function refuse(reason: string, cause?: unknown): KneeTumorError {
  return new KneeTumorError('unauthorized', reason, { cause });
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'the token was issued too long ago (iat)' : 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not acceptable`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not allowed';
  return 'the token is not valid';
}

export function createCdsAuthenticator(options: { clients: CdsClientConfig[]; maxTokenAgeSeconds: number; jtiCache?: JtiCache }): CdsAuthenticator {
  const keySets = new Map<string, JWTVerifyGetKey>();
  const jtis = options.jtiCache ?? new JtiCache();
  const keySetOf = (client: CdsClientConfig): JWTVerifyGetKey => {
    let keys = keySets.get(client.issuer);
    if (!keys) {
      keys = client.jwksUrl ? createRemoteJWKSet(new URL(client.jwksUrl)) : createLocalJWKSet({ keys: client.jwks?.keys ?? [] });
      keySets.set(client.issuer, keys);
    }
    return keys;
  };

  return async (token, audience) => {
    if (!token) throw refuse('a bearer JWT is required');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let issuer: string | undefined;
    try {
      header = decodeProtectedHeader(token);
      issuer = decodeJwt(token).iss;
    } catch (cause) {
      throw refuse('the token is not a JWT', cause);
    }
    if (!header.alg || !ALGORITHMS.includes(header.alg)) throw refuse(`the token algorithm ${header.alg ?? '(none)'} is not allowed`);
    const client = options.clients.find((c) => c.issuer === issuer);
    if (!client) throw refuse('the token issuer is not an allowed CDS client');
    if (header.jku !== undefined && header.jku !== client.jwksUrl) throw refuse('the token jku is not the issuer\'s configured JWKS URL');

    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, keySetOf(client), {
        issuer: client.issuer,
        audience,
        algorithms: ALGORITHMS,
        maxTokenAge: options.maxTokenAgeSeconds,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
        clockTolerance: 5,
      }));
    } catch (cause) {
      throw refuse(describe(cause), cause);
    }
    if (!jtis.firstUse(client.issuer, String(payload.jti), (payload.exp as number) * 1000)) throw refuse('the token has already been used (jti replay)');
    return { issuer: client.issuer, tenant: typeof payload.tenant === 'string' ? payload.tenant : undefined };
  };
}
