/**
 * FHIR REST transport (R4 JSON): search, read and transaction. Every failure becomes one
 * KneeTumorError here, decided by the status before the body is read: unreachable, timed out, a
 * transient status or a broken body (fhir-error or fhir-unreachable, retryable, with the server's
 * Retry-After), our credentials refused (fhir-unauthorized), or what we sent refused
 * (fhir-rejected). Credentials come from configuration or, for CDS fallback queries, from the
 * hook's fhirAuthorization; a 401 to an access token this service obtained itself is tried once
 * more with a fresh token.
 */
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4';
import type { HttpAuth } from '../config';
import { authorizationHeaders, createCredentials } from '../credentials/credentials';
import { KneeTumorError } from '../errors';
import { answerKind, retryAfterMs } from '../transport';

export interface FhirClientOptions {
  baseUrl: string;
  auth?: HttpAuth;
  timeoutMs: number;
}

export interface FhirClient {
  readonly baseUrl: string;
  /** One page of results (the first `_count`), matches only (no included resources). */
  search<T extends FhirResource>(resourceType: T['resourceType'], query: string): Promise<T[]>;
  /** A search URL relative to the base, e.g. a resolved prefetch template; the whole Bundle. */
  searchUrl(relativeUrl: string): Promise<Bundle<FhirResource>>;
  transaction(bundle: Bundle<FhirResource>): Promise<Bundle<FhirResource>>;
}

/** The OperationOutcome's words, when the error body is one (a proxy's HTML page is not). */
function outcomeText(text: string): string {
  let outcome: OperationOutcome | undefined;
  try {
    outcome = JSON.parse(text) as OperationOutcome;
  } catch {
    return '';
  }
  const issues = outcome?.resourceType === 'OperationOutcome' ? outcome.issue : [];
  const words = issues.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ').slice(0, 500);
  return words ? `: ${words}` : '';
}

/** A 2xx body that is not JSON was cut short or replaced on the way: worth another try. */
function parseBody<T>(text: string, what: string): T {
  try {
    return (text ? JSON.parse(text) : undefined) as T;
  } catch (cause) {
    throw new KneeTumorError('fhir-error', `${what} with a body that is not JSON (cut short, or replaced by a proxy)`, { cause });
  }
}

export function createFhirClient(options: FhirClientOptions): FhirClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const credentials = createCredentials(options.auth, { system: 'fhir', baseUrl, timeoutMs: options.timeoutMs });

  async function send(method: 'GET' | 'POST', relativeUrl: string, body: unknown, authorization: string | undefined): Promise<Response> {
    try {
      return await fetch(`${baseUrl}/${relativeUrl}`, {
        method,
        headers: {
          Accept: 'application/fhir+json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/fhir+json' }),
          ...authorizationHeaders(authorization),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (cause) {
      throw new KneeTumorError('fhir-unreachable', `the FHIR server at ${baseUrl} did not answer`, { cause });
    }
  }

  async function request<T>(method: 'GET' | 'POST', relativeUrl: string, body?: unknown): Promise<T> {
    const authorization = await credentials.authorization();
    let response = await send(method, relativeUrl, body, authorization);
    if (response.status === 401 && credentials.refused(authorization)) {
      await response.body?.cancel();
      response = await send(method, relativeUrl, body, await credentials.authorization());
    }
    const what = `${method} ${relativeUrl.split('?')[0]} answered ${response.status}`;
    const kind = answerKind(response.status);
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      throw new KneeTumorError('fhir-error', `${what} and its body was cut short`, { cause });
    }
    if (kind === 'ok') return parseBody<T>(text, what);
    const detail = outcomeText(text);
    if (kind === 'transient') {
      const retryAfter = retryAfterMs(response.headers.get('retry-after'));
      throw new KneeTumorError('fhir-error', `${what}${detail}`, retryAfter === undefined ? {} : { retryAfterMs: retryAfter });
    }
    if (kind === 'unauthorized') {
      throw new KneeTumorError('fhir-unauthorized', `${what}: the FHIR server refused this service's credentials (fhir.auth)${detail}`);
    }
    throw new KneeTumorError('fhir-rejected', `${what}${detail}`);
  }

  return {
    baseUrl,
    async search<T extends FhirResource>(resourceType: T['resourceType'], query: string): Promise<T[]> {
      const bundle = await request<Bundle<FhirResource>>('GET', `${resourceType}?${query}`);
      return (bundle.entry ?? [])
        .filter((e) => e.search?.mode !== 'include' && e.resource?.resourceType === resourceType)
        .map((e) => e.resource as T);
    },
    searchUrl(relativeUrl: string) {
      return request<Bundle<FhirResource>>('GET', relativeUrl);
    },
    transaction(bundle: Bundle<FhirResource>) {
      return request<Bundle<FhirResource>>('POST', '', bundle);
    },
  };
}
