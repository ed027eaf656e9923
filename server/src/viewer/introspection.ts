/**
 * `introspection` mode (RFC 7662, SMART App Launch token introspection): the token, whatever its
 * form (opaque, or a JWT signed with a secret we never learn), is posted to the EHR's
 * introspection endpoint, this service authenticating with its own client credentials. The token
 * is accepted only when the answer says it is active, gives its expiry, grants patient-level
 * imaging reads and names the launch patient.
 */
import type { TokenValidation } from '../config';
import { clientSecretBasic } from '../credentials/credentials';
import { KneeTumorError } from '../errors';
import { assertLifetime, grantOfClaims, sessionEnded, type TokenGrant } from './token-grant';

type IntrospectionSettings = Extract<TokenValidation, { mode: 'introspection' }>;

/** The request that introspects `token`, authenticated as the settings say. */
export function introspectionRequest(settings: IntrospectionSettings, token: string): { headers: Record<string, string>; body: string } {
  const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (settings.clientAuth === 'client_secret_basic') {
    headers.Authorization = clientSecretBasic(settings.clientId, settings.clientSecret);
  } else {
    form.set('client_id', settings.clientId);
    form.set('client_secret', settings.clientSecret);
  }
  return { headers, body: form.toString() };
}

/** The grant an introspection answer gives (pure). */
export function grantOfIntrospection(answer: unknown, issuer: string, maxLifetimeSeconds = Number.POSITIVE_INFINITY): TokenGrant {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) throw new KneeTumorError('token-check-unavailable', 'the introspection endpoint did not answer a JSON object');
  const claims = answer as Record<string, unknown>;
  if (claims.active !== true) throw sessionEnded('the access token is no longer active');
  if (typeof claims.exp !== 'number') throw new KneeTumorError('forbidden', 'the introspection answer gives no exp: the EHR must state when the token expires');
  if (claims.exp * 1000 <= Date.now()) throw sessionEnded('the session has expired');
  assertLifetime(claims, maxLifetimeSeconds);
  return grantOfClaims(claims, issuer);
}

export function createIntrospectionCheck(settings: IntrospectionSettings, timeoutMs: number, maxLifetimeSeconds: number): (token: string) => Promise<TokenGrant> {
  const endpoint = settings.introspectionUrl;
  return async (token) => {
    const { headers, body } = introspectionRequest(settings, token);
    let response: Response;
    try {
      response = await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw new KneeTumorError('token-check-unavailable', `the introspection endpoint ${endpoint} cannot be reached`, { cause });
    }
    if (response.status === 401 || response.status === 403) {
      throw new KneeTumorError(
        'introspection-unauthorized',
        `the introspection endpoint ${endpoint} refused this service's client credentials (HTTP ${response.status}): register the service as a client allowed to introspect, and set smart.tokenValidation.clientId, clientSecret and clientAuth`,
      );
    }
    if (!response.ok) throw new KneeTumorError('token-check-unavailable', `the introspection endpoint ${endpoint} answered HTTP ${response.status}`);
    let answer: unknown;
    try {
      answer = await response.json();
    } catch (cause) {
      throw new KneeTumorError('token-check-unavailable', `the introspection endpoint ${endpoint} did not answer JSON`, { cause });
    }
    return grantOfIntrospection(answer, endpoint, maxLifetimeSeconds);
  };
}
