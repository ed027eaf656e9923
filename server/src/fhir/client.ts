/**
 * FHIR REST transport (R4 JSON): search, read and transaction. Every failure becomes one
 * KneeTumorError here: unreachable or timed out (retryable), a server error (retryable), or a
 * refusal of what we sent (not retryable). Credentials come from configuration or, for CDS
 * fallback queries, from the hook's fhirAuthorization.
 */
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4';
import type { HttpAuth } from '../config';
import { KneeTumorError } from '../errors';

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

function authorization(auth: HttpAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.type === 'bearer') return { Authorization: `Bearer ${auth.token}` };
  return { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

function outcomeText(body: unknown): string {
  const outcome = body as OperationOutcome | undefined;
  const issues = outcome?.resourceType === 'OperationOutcome' ? outcome.issue : [];
  return issues.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ').slice(0, 500);
}

export function createFhirClient(options: FhirClientOptions): FhirClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  async function request<T>(method: 'GET' | 'POST', relativeUrl: string, body?: unknown): Promise<T> {
    const url = `${baseUrl}/${relativeUrl}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Accept: 'application/fhir+json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/fhir+json' }),
          ...authorization(options.auth),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (cause) {
      throw new KneeTumorError('fhir-unreachable', `the FHIR server at ${baseUrl} did not answer`, { cause });
    }
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : undefined;
    if (response.ok) return json as T;
    const what = `${method} ${relativeUrl.split('?')[0]} answered ${response.status}`;
    if (response.status >= 500) throw new KneeTumorError('fhir-error', `${what}: ${outcomeText(json)}`);
    throw new KneeTumorError('fhir-rejected', `${what}: ${outcomeText(json)}`);
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
