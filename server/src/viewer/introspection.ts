/**
 * `introspection` mode (RFC 7662, SMART App Launch token introspection): the token, whatever its
 * form (opaque, or a JWT signed with a secret we never learn), is posted to the EHR's
 * introspection endpoint, this service authenticating in the way the endpoint takes: its client
 * secret (client_secret_basic or client_secret_post) or a bearer token (a configured one, or the
 * service's own token from fhir.auth, e.g. its SMART Backend Services token). The token is
 * accepted only when the answer says it is active, gives its expiry, grants patient-level imaging
 * reads and names the launch patient.
 */
import type { FhirConfig, TokenValidation } from '../config';
import { clientSecretBasic, createCredentials, fixedCredentials, type Credentials } from '../credentials/credentials';
import { KneeTumorError } from '../errors';
import { assertLifetime, grantOfClaims, sessionEnded, type TokenGrant } from './token-grant';

export type IntrospectionSettings = Extract<TokenValidation, { mode: 'introspection' }>;

/**
 * How this service authenticates to the introspection endpoint, decided once when the service is
 * composed: `bearer` without a `token` takes the service's own renewable token from fhir.auth, and
 * without either the service does not start (config-invalid, naming what to set).
 */
export function introspectionCredentials(settings: IntrospectionSettings, fhir?: Pick<FhirConfig, 'auth' | 'baseUrl' | 'timeoutMs'>): Credentials {
  switch (settings.clientAuth) {
    case 'client_secret_basic':
      return fixedCredentials(clientSecretBasic(settings.clientId ?? '', settings.clientSecret ?? ''));
    case 'client_secret_post':
      return fixedCredentials(undefined);
    case 'bearer': {
      if (settings.token) return fixedCredentials(`Bearer ${settings.token}`);
      const auth = fhir?.auth;
      if (fhir && (auth?.type === 'smart-backend' || auth?.type === 'oauth2-client-credentials')) {
        return createCredentials(auth, { system: 'fhir', baseUrl: fhir.baseUrl, timeoutMs: fhir.timeoutMs });
      }
      throw new KneeTumorError(
        'config-invalid',
        'smart.tokenValidation.clientAuth bearer needs a token to send: set smart.tokenValidation.token, or give fhir.auth of type smart-backend (or oauth2-client-credentials) whose access token the introspection endpoint accepts',
      );
    }
  }
}

/** The request that introspects `token`; `authorization`: the header of the service's credentials, if any. */
export function introspectionRequest(settings: IntrospectionSettings, token: string, authorization: string | undefined): { headers: Record<string, string>; body: string } {
  const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
  if (settings.clientAuth === 'client_secret_post') {
    form.set('client_id', settings.clientId ?? '');
    form.set('client_secret', settings.clientSecret ?? '');
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...(authorization ? { Authorization: authorization } : {}) };
  return { headers, body: form.toString() };
}

/** What the integrator can change when the endpoint refuses the service (pure). */
function refusedCredentials(settings: IntrospectionSettings, status: number): KneeTumorError {
  const endpoint = settings.introspectionUrl;
  if (settings.clientAuth === 'bearer') {
    const source = settings.token ? 'smart.tokenValidation.token' : 'the service\'s own token from fhir.auth';
    return new KneeTumorError(
      'introspection-unauthorized',
      `the introspection endpoint ${endpoint} refused this service's bearer token (${source}; HTTP ${status}): smart.tokenValidation.mode introspection with clientAuth bearer needs a token the endpoint accepts; set smart.tokenValidation.token, or register the fhir.auth client as allowed to introspect`,
    );
  }
  return new KneeTumorError(
    'introspection-unauthorized',
    `the introspection endpoint ${endpoint} refused this service's client credentials (HTTP ${status}): register the service as a client allowed to introspect, and set smart.tokenValidation.clientId, clientSecret and clientAuth (client_secret_basic, client_secret_post, or bearer where the endpoint takes only a bearer token)`,
  );
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

export function createIntrospectionCheck(settings: IntrospectionSettings, credentials: Credentials, timeoutMs: number, maxLifetimeSeconds: number): (token: string) => Promise<TokenGrant> {
  const endpoint = settings.introspectionUrl;
  const post = async (token: string, authorization: string | undefined): Promise<Response> => {
    const { headers, body } = introspectionRequest(settings, token, authorization);
    try {
      return await fetch(endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw new KneeTumorError('token-check-unavailable', `the introspection endpoint ${endpoint} cannot be reached`, { cause });
    }
  };
  return async (token) => {
    const authorization = await credentials.authorization();
    let response = await post(token, authorization);
    // The service's own token may have been revoked or rotated: one more try with a fresh one.
    if (response.status === 401 && credentials.refused(authorization)) {
      await response.body?.cancel();
      response = await post(token, await credentials.authorization());
    }
    if (response.status === 401 || response.status === 403) throw refusedCredentials(settings, response.status);
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
