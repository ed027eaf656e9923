/**
 * The demo's SMART authorization server (server/src/demo/authorization-server.ts, on
 * oauth2-mock-server) in a child process, because Jest cannot load that ES module. Arguments: the
 * access token form and the FHIR base URL the tokens are for, as JSON. A test registers launches
 * with POST /test/launches; everything else is the server's own /oauth endpoints. Prints
 * `{"issuer": ...}` when it listens.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAuthorizationServer, type AccessTokenForm, type LaunchContext } from '../../server/src/demo/authorization-server';
import { INTROSPECTION_CLIENT } from './smart-ehr';

const { accessTokens, fhirBaseUrl } = JSON.parse(process.argv[2] ?? '{}') as { accessTokens: AccessTokenForm; fhirBaseUrl: string };

async function main(): Promise<void> {
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth`;
  const auth = await createAuthorizationServer(issuer, fhirBaseUrl, { accessTokens, introspectionClients: [INTROSPECTION_CLIENT] });
  app.post('/test/launches', express.json(), (req, res) => {
    res.json({ launch: auth.registerLaunch(req.body as LaunchContext) });
  });
  app.use('/oauth', auth.handler);
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

void main();
