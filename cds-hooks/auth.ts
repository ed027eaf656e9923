/**
 * CDS client authentication (CDS Hooks 2.0): a JWT signed with an asymmetric key by an issuer on
 * our allow-list, for this service's URL as `aud`, not expired, not older than maxTokenAge, living
 * no longer than maxTokenAge (exp - iat, so that its `jti` is remembered no longer than that), and
 * never seen before (`jti`). Each issuer's keys are either a static set (the token's `kid` must be
 * in it; a `jku` header is ignored and never fetched) or a JWKS URL (a `jku`, when present, must be
 * that URL). A JWKS URL that cannot be read is our outage, not the caller's fault: 503.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { CdsClientConfig } from '../server/src/config';
import { KneeTumorError, isKneeTumorError } from '../server/src/errors';
import { ASYMMETRIC_ALGORITHMS } from '../server/src/jwt-algorithms';
import { JtiCache } from './jti-cache';

export interface CdsCaller {
  issuer: string;
  tenant?: string;
  /** The FHIR servers this client's hooks may send us to (cdsClients[].fhirServers). */
  fhirServers: readonly string[];
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

/** Why a JWKS URL could not be read, in words (jose's errors, or the socket's). */
function unavailability(error: unknown): string {
  if (error instanceof errors.JWKSTimeout) return 'it did not answer in time';
  if (error instanceof errors.JWKSInvalid) return 'its answer is not a JSON Web Key Set';
  if (error instanceof errors.JOSEError) return error.message;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `it could not be reached (${code})` : 'it could not be reached';
}

/**
 * The issuer's keys from its JWKS URL (fetched and cached by jose). A key the set does not hold is
 * the token's fault (401); a set that cannot be read at all says nothing about the token (503).
 */
function remoteKeys(issuer: string, jwksUrl: string): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(jwksUrl));
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KneeTumorError(
        'cds-client-keys-unavailable',
        `the key set of CDS client ${issuer} is unavailable: ${jwksUrl}: ${unavailability(error)}`,
        { cause: error },
      );
    }
  };
}

/** The issuer's static keys; its `kid` must name one of them (a `jku` is never followed). */
function staticKeys(issuer: string, jwks: NonNullable<CdsClientConfig['jwks']>): JWTVerifyGetKey {
  const local = createLocalJWKSet({ keys: jwks.keys });
  const kids = new Set(jwks.keys.map((k) => k.kid));
  return (header, token) => {
    if (!header.kid || !kids.has(header.kid)) throw refuse(`the token kid ${header.kid ?? '(none)'} is not in the key set configured for ${issuer}`);
    return local(header, token);
  };
}

const sameUrl = (a: string, b: string) => URL.canParse(a) && new URL(a).href === new URL(b).href;

export function createCdsAuthenticator(options: { clients: CdsClientConfig[]; maxTokenAgeSeconds: number; jtiCache?: JtiCache }): CdsAuthenticator {
  const keySets = new Map<string, JWTVerifyGetKey>();
  const jtis = options.jtiCache ?? new JtiCache();
  const keySetOf = (client: CdsClientConfig): JWTVerifyGetKey => {
    let keys = keySets.get(client.issuer);
    if (!keys) {
      keys = client.jwksUrl ? remoteKeys(client.issuer, client.jwksUrl) : staticKeys(client.issuer, client.jwks ?? { keys: [] });
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
    if (!header.alg || !ASYMMETRIC_ALGORITHMS.includes(header.alg)) throw refuse(`the token algorithm ${header.alg ?? '(none)'} is not allowed`);
    const client = options.clients.find((c) => c.issuer === issuer);
    if (!client) throw refuse('the token issuer is not an allowed CDS client');
    // With a static key set the jku is ignored: the keys we trust are the ones configured.
    if (client.jwksUrl && header.jku !== undefined && !sameUrl(header.jku, client.jwksUrl)) throw refuse('the token jku is not the issuer\'s configured JWKS URL');

    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, keySetOf(client), {
        issuer: client.issuer,
        audience,
        algorithms: ASYMMETRIC_ALGORITHMS,
        maxTokenAge: options.maxTokenAgeSeconds,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
        clockTolerance: 5,
      }));
    } catch (cause) {
      throw isKneeTumorError(cause) ? cause : refuse(describe(cause), cause);
    }
    const lifetime = (payload.exp as number) - (payload.iat as number);
    if (lifetime > options.maxTokenAgeSeconds) throw refuse(`the token lives ${lifetime} s (exp - iat), longer than the ${options.maxTokenAgeSeconds} s accepted`);
    if (!jtis.firstUse(client.issuer, String(payload.jti), (payload.exp as number) * 1000)) throw refuse('the token has already been used (jti replay)');
    return { issuer: client.issuer, tenant: typeof payload.tenant === 'string' ? payload.tenant : undefined, fhirServers: client.fhirServers ?? [] };
  };
}
