/**
 * The HTTP side of this service's own credentials: asking an OAuth 2.0 token endpoint for an
 * access token, and finding a FHIR server's token endpoint in its SMART configuration. Failures
 * take the code of the system the token is for (server/src/transport.ts decides from the status):
 * an endpoint that is down or failing is worth retrying (`*-unreachable`, `*-error`); one that
 * refuses our client (invalid_client, a bad scope, an unknown key) is a configuration error
 * (`*-unauthorized`).
 */
import { KneeTumorError, type ErrorCode } from '../errors';
import { answerKind, retryAfterMs } from '../transport';
import type { IssuedToken } from './token-cache';

export type RemoteSystem = 'fhir' | 'pacs';

const CODES: Record<RemoteSystem, { unreachable: ErrorCode; error: ErrorCode; unauthorized: ErrorCode }> = {
  fhir: { unreachable: 'fhir-unreachable', error: 'fhir-error', unauthorized: 'fhir-unauthorized' },
  pacs: { unreachable: 'pacs-unreachable', error: 'pacs-error', unauthorized: 'pacs-unauthorized' },
};

export interface Endpoint {
  system: RemoteSystem;
  url: string;
  timeoutMs: number;
}

/** The OAuth error of a refusal (RFC 6749 section 5.2), when its body says one; never a token. */
function oauthError(json: unknown): string {
  if (typeof json !== 'object' || json === null) return '';
  const { error, error_description: description } = json as { error?: unknown; error_description?: unknown };
  if (typeof error !== 'string') return '';
  return typeof description === 'string' ? `: ${error} (${description.slice(0, 200)})` : `: ${error}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One request whose answer must be a JSON object; every failure is a KneeTumorError of the system. */
async function exchangeJson(endpoint: Endpoint, what: string, init: RequestInit): Promise<Record<string, unknown>> {
  const codes = CODES[endpoint.system];
  let response: Response;
  try {
    response = await fetch(endpoint.url, { ...init, signal: AbortSignal.timeout(endpoint.timeoutMs) });
  } catch (cause) {
    throw new KneeTumorError(codes.unreachable, `${what} ${endpoint.url} did not answer`, { cause });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    throw new KneeTumorError(codes.error, `${what} ${endpoint.url} answered ${response.status} and its body was cut short`, { cause });
  }
  const json = parseJson(text);
  const kind = answerKind(response.status);
  if (kind === 'transient') {
    const retryAfter = retryAfterMs(response.headers.get('retry-after'));
    throw new KneeTumorError(codes.error, `${what} ${endpoint.url} answered ${response.status}`, retryAfter === undefined ? {} : { retryAfterMs: retryAfter });
  }
  if (kind !== 'ok') {
    throw new KneeTumorError(codes.unauthorized, `${what} ${endpoint.url} refused this service's client (${endpoint.system}.auth): HTTP ${response.status}${oauthError(json)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new KneeTumorError(codes.error, `${what} ${endpoint.url} answered ${response.status} with a body that is not a JSON object (cut short, or replaced by a proxy)`);
  }
  return json as Record<string, unknown>;
}

/** RFC 6749 section 4.4: a client_credentials grant; `form` carries the client's authentication when it is not a header. */
export async function requestToken(endpoint: Endpoint, form: URLSearchParams, headers: Record<string, string> = {}): Promise<IssuedToken> {
  const answer = await exchangeJson(endpoint, 'the token endpoint', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
    body: form,
  });
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = answer;
  const unauthorized = CODES[endpoint.system].unauthorized;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new KneeTumorError(unauthorized, `the token endpoint ${endpoint.url} answered without an access_token; check ${endpoint.system}.auth.tokenUrl`);
  }
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new KneeTumorError(unauthorized, `the token endpoint ${endpoint.url} issued a token of type ${String(tokenType)}; only Bearer tokens are supported`);
  }
  return typeof expiresIn === 'number' && expiresIn > 0 ? { accessToken, expiresInSeconds: expiresIn } : { accessToken };
}

/** SMART App Launch discovery: the token endpoint named in {fhirBaseUrl}/.well-known/smart-configuration. */
export async function discoverTokenUrl(fhirBaseUrl: string, timeoutMs: number, setting = 'fhir.auth.tokenUrl'): Promise<string> {
  const url = `${fhirBaseUrl.replace(/\/+$/, '')}/.well-known/smart-configuration`;
  const answer = await exchangeJson({ system: 'fhir', url, timeoutMs }, 'the SMART configuration', { headers: { Accept: 'application/json' } });
  const tokenUrl = answer.token_endpoint;
  if (typeof tokenUrl !== 'string' || !URL.canParse(tokenUrl)) {
    throw new KneeTumorError('fhir-unauthorized', `the SMART configuration ${url} names no token_endpoint; set ${setting}`);
  }
  return tokenUrl;
}
