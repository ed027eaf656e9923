/**
 * A real FHIR R4 engine for tests (server/src/fhir/memory-engine.ts) behind express on a free
 * loopback port. It can be stopped and started again on the same port with its data kept, so that
 * tests can take the FHIR server down and bring it back.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Resource } from 'fhir/r4';
import { createFhirEngine } from '../../server/src/fhir/memory-engine';

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

export async function startFhirServer(): Promise<RunningFhirServer> {
  const engine = createFhirEngine();
  const app = express();
  app.use('/fhir', ...engine.handler);

  // The first start takes the port the kernel gives at listen time (one chosen beforehand could be
  // taken by another Jest worker meanwhile); a restart listens on that same port again.
  let port = 0;
  let server: Server | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const s = app.listen(port, '127.0.0.1', () => {
        port = (s.address() as AddressInfo).port;
        resolve();
      });
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
    search: (query) => engine.search(query),
    create: (resource) => engine.create(resource),
    stop,
    start,
  };
}
