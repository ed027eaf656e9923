/**
 * The service's own authorization server for tests: oauth2-mock-server in a child process
 * (token-server-child.ts), with the clients a test registers (a SMART backend client's public key,
 * or a client secret) and the audience its tokens are issued for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface TokenServerClient {
  clientId: string;
  /** The `aud` of the access tokens issued to this client: the resource server that accepts them. */
  audience: string;
  /** SMART Backend Services: the public key registered for the client, its alg and kid. */
  publicJwk?: Record<string, unknown>;
  alg?: 'RS384' | 'ES384';
  kid?: string;
  /** OAuth 2.0 client credentials with a secret. */
  clientSecret?: string;
}

export interface TokenRequestRecord {
  clientId?: string;
  outcome: 'issued' | 'refused' | 'outage';
  reason?: string;
  scope?: string;
}

export interface TokenServer {
  issuer: string;
  tokenUrl: string;
  jwksUrl: string;
  /** Every token request so far, in order. */
  requests(): Promise<TokenRequestRecord[]>;
  /** Lifetime (seconds) of the tokens issued from now on. */
  setLifetime(seconds: number): Promise<void>;
  /** The token endpoint answers this status (e.g. 503) until set back to 0. */
  setOutage(status: number): Promise<void>;
  stop(): Promise<void>;
}

const CHILD = path.join(__dirname, 'token-server-child.ts');
const REGISTER = path.join(__dirname, 'ts-register.js');

function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const fail = (why: string) => reject(new Error(`the token server did not start (${why}):\n${output}`));
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
    child.once('exit', (code) => fail(`exit ${code}`));
  });
}

export async function startTokenServer(clients: TokenServerClient[]): Promise<TokenServer> {
  const child = spawn(process.execPath, ['-r', REGISTER, CHILD, JSON.stringify(clients)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const issuer = await started(child);
  const settings = async (query: string) => {
    const response = await fetch(`${issuer}/test/settings?${query}`, { method: 'POST' });
    if (response.status !== 204) throw new Error(`token server settings answered ${response.status}`);
  };
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    requests: async () => (await (await fetch(`${issuer}/test/requests`)).json()) as TokenRequestRecord[],
    setLifetime: (seconds) => settings(`lifetime=${seconds}`),
    setOutage: (status) => settings(`outage=${status}`),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
