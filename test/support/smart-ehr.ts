/**
 * A SMART EHR for the viewer's tests, on its own origins as a real one is: our FHIR engine behind
 * bearer-token checks (only active tokens of its authorization server, asked by introspection as
 * a resource server does, and a token reads only its own patient's Patient resource), the demo's
 * authorization server in a child process (oauth2-mock-server with PKCE, launch context, opaque /
 * HS256 / RS256 access tokens, RFC 7662 introspection), SMART discovery, and CORS so that the app
 * on another origin can use them. The service reaches the same data with its system account at
 * `systemFhirUrl`, as it would through its own credentials. With `patientScope: false` its FHIR
 * server is the lax kind hospitals meet (the SMART launcher's): any active token reads any
 * patient, and searches ignore `patient=`, returning every patient's resources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AccessTokenForm, LaunchContext } from '../../server/src/demo/authorization-server';
import type { FhirEngine } from '../../server/src/fhir/memory-engine';
import { listenOnLoopback } from './loopback';

const CHILD = path.join(__dirname, 'smart-auth-child.ts');
const REGISTER = path.join(__dirname, 'ts-register.js');

export const INTROSPECTION_CLIENT = { clientId: 'knee-tumor-service', clientSecret: 'introspection-secret-0123456789' };
export const APP_CLIENT_ID = 'knee-tumor-viewer';
export const APP_SCOPE = 'launch openid fhirUser patient/Patient.rs patient/ImagingStudy.rs patient/DiagnosticReport.rs patient/Observation.rs';

export interface SmartEhr {
  /** The `iss` of its launches, checked with the app's token. */
  fhirBaseUrl: string;
  /** The same FHIR data without token checks: the service's system account. */
  systemFhirUrl: string;
  /** The authorization server's issuer URL (authorize, token, jwks, introspect below it). */
  issuer: string;
  introspectionUrl: string;
  /** Registers an EHR launch (as the chart does before opening the app) and returns its `launch` id. */
  registerLaunch(context: LaunchContext): Promise<string>;
  stop(): Promise<void>;
}

function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { issuer: string }).issuer);
    });
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
    child.once('exit', (code) => reject(new Error(`the authorization server exited with ${code}:\n${output}`)));
  });
}

/** The token's patient, if the authorization server says it is active (RFC 7662, as a resource server asks). */
async function activePatient(introspectionUrl: string, token: string): Promise<string | undefined> {
  const response = await fetch(introspectionUrl, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.clientId}:${INTROSPECTION_CLIENT.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ token }),
  });
  const answer = (await response.json()) as { active?: boolean; patient?: string };
  return answer.active ? answer.patient : undefined;
}

/** Drops `patient=` from a search before the engine sees it, as a FHIR server that ignores it does. */
function ignoringPatientSearch(req: Request, _res: Response, next: NextFunction): void {
  const url = new URL(req.url, 'http://ignored');
  url.searchParams.delete('patient');
  req.url = `${url.pathname}${url.search}`;
  next();
}

export async function startSmartEhr(engine: FhirEngine, accessTokens: AccessTokenForm, { patientScope = true }: { patientScope?: boolean } = {}): Promise<SmartEhr> {
  // Listening first: the authorization server is started with the FHIR URL, before the app is built.
  const { server, origin } = await listenOnLoopback();
  const fhirBaseUrl = `${origin}/fhir`;
  const child = spawn(process.execPath, ['-r', REGISTER, CHILD, JSON.stringify({ accessTokens, fhirBaseUrl })], { stdio: ['ignore', 'pipe', 'pipe'] });
  const issuer = await started(child);
  const introspectionUrl = `${issuer}/introspect`;

  const app = express();
  app.use(cors());
  app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
    res.json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      introspection_endpoint: introspectionUrl,
      code_challenge_methods_supported: ['S256'],
      capabilities: ['launch-ehr', 'client-public', 'context-ehr-patient', 'permission-patient', 'permission-v2'],
    });
  });
  app.use('/fhir', (req: Request, res: Response, next: NextFunction) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    void (token ? activePatient(introspectionUrl, token) : Promise.resolve(undefined)).then((patient) => {
      if (!patient) {
        res.status(401).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', diagnostics: 'invalid or expired token' }] });
        return;
      }
      const patientRead = /^\/Patient\/([^/?]+)/.exec(req.path)?.[1];
      if (patientScope && patientRead && patientRead !== patient) {
        res.status(403).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: 'another patient' }] });
        return;
      }
      next();
    }, next);
  }, ...(patientScope ? [] : [ignoringPatientSearch]), ...engine.handler);
  app.use('/system/fhir', ...engine.handler);
  server.on('request', app);
  return {
    fhirBaseUrl,
    systemFhirUrl: `${origin}/system/fhir`,
    issuer,
    introspectionUrl,
    async registerLaunch(context) {
      const response = await fetch(`${issuer.replace(/\/oauth$/, '')}/test/launches`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(context) });
      return ((await response.json()) as { launch: string }).launch;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * An EHR launch done as the app does it (authorize with PKCE S256, then the token request), from
 * Node: the token response, with the access token in the EHR's form and the launch patient.
 * `tokenUrl`: where the code is exchanged (the service's token broker, in its `fhir` mode).
 */
export async function launchTokens(ehr: SmartEhr, patientId: string, tokenUrl = `${ehr.issuer}/token`): Promise<{ access_token: string; patient: string }> {
  const launch = await ehr.registerLaunch({ patient: patientId });
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = 'http://127.0.0.1/app/index.html';
  const authorize = new URL(`${ehr.issuer}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: APP_CLIENT_ID,
    redirect_uri: redirectUri,
    scope: APP_SCOPE,
    state: randomBytes(8).toString('hex'),
    aud: ehr.fhirBaseUrl,
    launch,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code');
  if (!code) throw new Error(`the authorization server gave no code: ${redirect.headers.get('location')}`);
  const token = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: APP_CLIENT_ID, code_verifier: verifier }),
  });
  if (!token.ok) throw new Error(`the token request answered HTTP ${token.status}`);
  return (await token.json()) as { access_token: string; patient: string };
}
