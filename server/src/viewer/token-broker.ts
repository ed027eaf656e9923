/**
 * The `fhir` mode's source of the launch patient. The app's token requests (the code exchange and
 * any refresh) go through POST /app-api/token, which forwards the form as received (code,
 * code_verifier, client_id...) to the EHR's token endpoint (smart.tokenValidation.tokenUrl, or the
 * one in smart.fhirBaseUrl's SMART configuration; never a URL the request names) and returns the
 * EHR's answer unchanged. The service thus learns from the EHR itself which patient each access
 * token was issued for, and remembers it under a hash of the token until the token expires, at
 * most smart.maxTokenLifetimeSeconds. Bindings live in memory: after a restart the viewer must be
 * opened again.
 */
import { discoverTokenUrl } from '../credentials/token-endpoint';
import { KneeTumorError } from '../errors';
import { createTokenCheckCache } from './token-cache';

/** Where the app sends its token requests (fhirclient's state.tokenUri, set by client/src/launch.ts). */
export const TOKEN_BROKER_PATH = '/app-api/token';

/** FHIR ids; anything else in a token answer's `patient` binds nothing. */
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** Refresh tokens are kept apart from access tokens: a refresh token never authenticates a request. */
const REFRESH = 'refresh-token';

export interface BrokeredAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface TokenBroker {
  /** Forwards the app's token request (its form body and Authorization header, if any) and returns the EHR's answer. */
  exchange(request: { form: string; authorization?: string }): Promise<BrokeredAnswer>;
  /** The patient id the EHR issued `accessToken` for, while the token lives; undefined for a token that did not pass here. */
  patientOf(accessToken: string): string | undefined;
}

export interface TokenBrokerSettings {
  fhirBaseUrl: string;
  tokenUrl?: string;
  timeoutMs: number;
  maxTokenLifetimeSeconds: number;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    // Not JSON: nothing to bind, the app gets the answer as it is.
    return undefined;
  }
}

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function createTokenBroker(settings: TokenBrokerSettings): TokenBroker {
  const bindings = createTokenCheckCache<string>(Date.now, settings.maxTokenLifetimeSeconds);
  let tokenUrl = settings.tokenUrl;

  /** Remembers the patient of an issued token; a refresh answer without `patient` keeps the refresh token's. */
  const bind = (form: URLSearchParams, answer: Record<string, unknown>): void => {
    const accessToken = nonEmpty(answer.access_token);
    const refreshedFrom = form.get('grant_type') === 'refresh_token' ? bindings.get(form.get('refresh_token') ?? '', REFRESH) : undefined;
    const stated = nonEmpty(answer.patient);
    const patient = stated !== undefined ? (ID.test(stated) ? stated : undefined) : refreshedFrom;
    if (!accessToken || !patient) return;
    const expiresAt = typeof answer.expires_in === 'number' && answer.expires_in > 0 ? Date.now() / 1000 + answer.expires_in : undefined;
    bindings.set(accessToken, patient, expiresAt);
    const refreshToken = nonEmpty(answer.refresh_token);
    if (refreshToken) bindings.set(refreshToken, patient, undefined, REFRESH);
  };

  return {
    async exchange({ form, authorization }) {
      tokenUrl ??= await discoverTokenUrl(settings.fhirBaseUrl, settings.timeoutMs, 'smart.tokenValidation.tokenUrl');
      let response: Response;
      let body: string;
      try {
        response = await fetch(tokenUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...(authorization ? { Authorization: authorization } : {}) },
          body: form,
          redirect: 'manual',
          signal: AbortSignal.timeout(settings.timeoutMs),
        });
        body = await response.text();
      } catch (cause) {
        throw new KneeTumorError('token-check-unavailable', `the EHR's token endpoint ${tokenUrl} cannot be reached`, { cause });
      }
      const answer = response.ok ? jsonObject(body) : undefined;
      if (answer) bind(new URLSearchParams(form), answer);
      return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body };
    },
    patientOf: (accessToken) => bindings.get(accessToken),
  };
}
