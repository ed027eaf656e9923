/**
 * A resource server's front door for tests: a reverse proxy that lets a request through to the
 * real server behind it (the FHIR engine, Orthanc) only with a bearer token signed by the test's
 * authorization server, unexpired, issued for this server (aud), granting `requiredScope`.
 * Otherwise 401, as an EHR's or PACS's gateway answers. Orthanc 1.10 checks only HTTP basic
 * credentials itself (bearer tokens need its authorization plugin and a web service behind it),
 * hence a proxy. It can also serve the SMART configuration that names the token endpoint, and
 * revoke the tokens it has seen (as when an EHR rotates its keys), so that a client must renew.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { forward, requestBody, serveOnLoopback } from './loopback-proxy';

export interface GuardOptions {
  issuer: string;
  jwksUrl: string;
  /** The `aud` the tokens must carry. */
  audience: string;
  /** A scope the token must grant, e.g. system/DiagnosticReport.crs. */
  requiredScope?: string;
  /** Served without a token at /.well-known/smart-configuration under the proxy's path. */
  smartConfiguration?: Record<string, unknown>;
}

export interface GuardRecord {
  method: string;
  path: string;
  outcome: 'passed' | 'refused';
  clientId?: string;
  reason?: string;
}

export interface BearerGuard {
  /** The proxy's URL for the target's path prefix, e.g. http://127.0.0.1:1234/fhir. */
  url: string;
  seen: GuardRecord[];
  /** Refuses every token seen so far from now on. */
  revokeSeenTokens(): void;
  /** While on, refuses every token, as a gateway that no longer trusts the authorization server. */
  refuseAll(on: boolean): void;
  stop(): Promise<void>;
}

export async function startBearerGuard(targetBaseUrl: string, options: GuardOptions): Promise<BearerGuard> {
  const target = new URL(targetBaseUrl);
  const prefix = target.pathname.replace(/\/+$/, '');
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const seenTokens = new Set<string>();
  const revoked = new Set<string>();
  const seen: GuardRecord[] = [];
  let refusingAll = false;

  async function check(authorization: string | undefined): Promise<{ clientId?: string; refusal?: string }> {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token) return { refusal: 'no bearer token' };
    if (refusingAll || revoked.has(token)) return { refusal: 'revoked' };
    seenTokens.add(token);
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: options.issuer, audience: options.audience });
      const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      if (options.requiredScope && !scopes.includes(options.requiredScope)) return { clientId, refusal: `scope lacks ${options.requiredScope}` };
      return { clientId };
    } catch (error) {
      return { refusal: (error as Error).message };
    }
  }

  const server = await serveOnLoopback(async (request, response) => {
    const path = request.url ?? '/';
    const method = request.method ?? 'GET';
    if (options.smartConfiguration && path === `${prefix}/.well-known/smart-configuration`) {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(options.smartConfiguration));
      return;
    }
    const sent = await requestBody(request);
    const { clientId, refusal } = await check(request.headers.authorization);
    seen.push({ method, path, outcome: refusal ? 'refused' : 'passed', ...(clientId ? { clientId } : {}), ...(refusal ? { reason: refusal } : {}) });
    if (refusal) {
      response.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      response.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    const forwarded = await forward(target.origin, request, sent, ['authorization']);
    response.writeHead(forwarded.status, { 'Content-Type': forwarded.contentType });
    response.end(forwarded.body);
  });
  return {
    url: `http://127.0.0.1:${server.port}${prefix}`,
    seen,
    revokeSeenTokens() {
      for (const token of seenTokens) revoked.add(token);
    },
    refuseAll(on) {
      refusingAll = on;
    },
    stop: () => server.stop(),
  };
}
