/**
 * A real OAuth 2.0 authorization server (oauth2-mock-server) for the service's own credentials, run
 * in a child process because Jest cannot load that ES module. Each token request's client is
 * checked as a real EHR or PACS would: a SMART Backend Services assertion against the public key
 * registered for its client (signature, alg, kid, iss = sub, aud = the token URL, exp at most
 * five minutes ahead, a jti used once), or a client secret sent as HTTP basic. Refused clients get
 * 400/401 invalid_client. Control routes under /test/ let a test read what was asked and change
 * the token lifetime or take the token endpoint down. Prints `{"url": ...}` when it listens.
 */
import { createPublicKey, randomUUID, verify, type JsonWebKey } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Server } from 'oauth2-mock-server';
import type { TokenServerClient, TokenRequestRecord } from './token-server';

const clients: TokenServerClient[] = JSON.parse(process.argv[2] ?? '[]') as TokenServerClient[];
const requests: TokenRequestRecord[] = [];
const usedJti = new Set<string>();
let lifetimeSeconds = 3600;
let outageStatus = 0;

type Verdict = { clientId: string; audience: string; refusal?: undefined } | { clientId?: string; refusal: string; status: number };

function decodePart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

function checkAssertion(assertion: string, tokenUrl: string): Verdict {
  const [head, body, signature] = assertion.split('.');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = decodePart(head);
    payload = decodePart(body);
  } catch {
    return { refusal: 'the assertion is not a JWT', status: 400 };
  }
  const client = clients.find((c) => c.clientId === payload.iss && c.publicJwk);
  if (!client?.publicJwk) return { refusal: 'unknown client', status: 400 };
  const refuse = (refusal: string): Verdict => ({ clientId: client.clientId, refusal, status: 400 });
  if (header.alg !== client.alg || header.kid !== client.kid) return refuse(`alg ${String(header.alg)} / kid ${String(header.kid)} is not the registered key`);
  const key = createPublicKey({ key: client.publicJwk as JsonWebKey, format: 'jwk' });
  const signed = Buffer.from(`${head}.${body}`);
  const valid = verify('sha384', signed, client.alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(signature ?? '', 'base64url'));
  if (!valid) return refuse('the assertion signature does not verify with the registered key');
  if (payload.sub !== payload.iss) return refuse('sub must equal iss');
  if (payload.aud !== tokenUrl && !(Array.isArray(payload.aud) && payload.aud.includes(tokenUrl))) return refuse('aud is not this token endpoint');
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now || payload.exp > now + 300) return refuse('exp must be within the next five minutes');
  if (typeof payload.jti !== 'string' || usedJti.has(payload.jti)) return refuse('jti missing or used before');
  usedJti.add(payload.jti);
  return { clientId: client.clientId, audience: client.audience };
}

function checkSecret(authorization: string | undefined): Verdict {
  const match = /^Basic (.+)$/.exec(authorization ?? '');
  if (!match?.[1]) return { refusal: 'no client authentication', status: 401 };
  const [id, secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
  const client = clients.find((c) => c.clientId === id && c.clientSecret !== undefined);
  if (!client || client.clientSecret !== secret) return { clientId: id, refusal: 'wrong client id or secret', status: 401 };
  return { clientId: client.clientId, audience: client.audience };
}

type TokenRequest = IncomingMessage & { body?: Record<string, string> };

function verdictOf(req: TokenRequest, tokenUrl: string): Verdict {
  const body = req.body ?? {};
  if (body.grant_type !== 'client_credentials') return { refusal: 'only client_credentials', status: 400 };
  if (body.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && body.client_assertion) {
    return checkAssertion(body.client_assertion, tokenUrl);
  }
  return checkSecret(req.headers.authorization);
}

async function main(): Promise<void> {
  const oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  const verdicts = new WeakMap<IncomingMessage, Verdict>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/test/requests') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(requests));
      return;
    }
    if (url.pathname === '/test/settings' && req.method === 'POST') {
      if (url.searchParams.has('lifetime')) lifetimeSeconds = Number(url.searchParams.get('lifetime'));
      if (url.searchParams.has('outage')) outageStatus = Number(url.searchParams.get('outage'));
      res.writeHead(204).end();
      return;
    }
    oauth.service.requestHandler(req, res);
  });

  oauth.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: TokenRequest) => {
    const verdict = verdictOf(req, `${oauth.issuer.url}/token`);
    verdicts.set(req, verdict);
    if (verdict.refusal !== undefined) return;
    const iat = Number(token.payload.iat);
    Object.assign(token.payload, { sub: verdict.clientId, client_id: verdict.clientId, aud: verdict.audience, exp: iat + lifetimeSeconds, jti: randomUUID() });
  });

  oauth.service.on('beforeResponse', (response: { statusCode: number; body: Record<string, unknown> }, req: TokenRequest) => {
    const verdict = verdicts.get(req) ?? { refusal: 'not a token request this server issues', status: 400 };
    const scope = req.body?.scope;
    if (outageStatus) {
      requests.push({ clientId: verdict.clientId, outcome: 'outage', scope });
      response.statusCode = outageStatus;
      response.body = { error: 'temporarily_unavailable' };
      return;
    }
    if (verdict.refusal !== undefined) {
      requests.push({ clientId: verdict.clientId, outcome: 'refused', reason: verdict.refusal, scope });
      response.statusCode = verdict.status;
      response.body = { error: 'invalid_client', error_description: verdict.refusal };
      return;
    }
    requests.push({ clientId: verdict.clientId, outcome: 'issued', scope });
    response.body.expires_in = lifetimeSeconds;
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  oauth.issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.stdout.write(`${JSON.stringify({ url: oauth.issuer.url })}\n`);
}

void main();
