/**
 * A reverse proxy in front of a real server that misbehaves on cue, as proxies and load balancers
 * in hospitals do: it answers with an HTML error page, a 429 with Retry-After, or passes the
 * request on and cuts the answer short. Requests without a queued fault pass through unchanged.
 */
import { forward, requestBody, serveOnLoopback } from './loopback-proxy';

export type Fault =
  | { kind: 'html'; status: number }
  | { kind: 'too-many-requests'; retryAfterSeconds: number }
  /** Forwards the request (the server does the work), then sends only half of its answer. */
  | { kind: 'truncated-after-forwarding' };

export interface FaultProxy {
  /** The proxy's URL for the target's path prefix, e.g. http://127.0.0.1:1234/fhir. */
  url: string;
  /** Faults for the next requests whose method and path match, in order. */
  queue(match: { method: string; path: RegExp }, ...faults: Fault[]): void;
  /** Every request seen, with when it arrived and what was done. */
  seen: Array<{ method: string; path: string; at: number; fault?: Fault['kind'] }>;
  stop(): Promise<void>;
}

export async function startFaultProxy(targetBaseUrl: string): Promise<FaultProxy> {
  const target = new URL(targetBaseUrl);
  const queued: Array<{ match: { method: string; path: RegExp }; fault: Fault }> = [];
  const seen: FaultProxy['seen'] = [];
  const server = await serveOnLoopback(async (request, response) => {
    const path = request.url ?? '/';
    const index = queued.findIndex((q) => q.match.method === request.method && q.match.path.test(path));
    const fault = index >= 0 ? queued.splice(index, 1)[0]?.fault : undefined;
    seen.push({ method: request.method ?? '', path, at: Date.now(), ...(fault ? { fault: fault.kind } : {}) });
    const sent = await requestBody(request);
    if (fault?.kind === 'html') {
      response.writeHead(fault.status, { 'Content-Type': 'text/html' });
      response.end(`<html><body><h1>${fault.status} Bad Gateway</h1><p>nginx</p></body></html>`);
      return;
    }
    if (fault?.kind === 'too-many-requests') {
      response.writeHead(429, { 'Content-Type': 'text/plain', 'Retry-After': String(fault.retryAfterSeconds) });
      response.end('slow down');
      return;
    }
    const forwarded = await forward(target.origin, request, sent);
    response.writeHead(forwarded.status, { 'Content-Type': forwarded.contentType });
    // A cut-short answer is a 200 whose body stops halfway, as when a proxy's upstream connection drops.
    response.end(fault?.kind === 'truncated-after-forwarding' ? forwarded.body.subarray(0, Math.floor(forwarded.body.length / 2)) : forwarded.body);
  });
  return {
    url: `http://127.0.0.1:${server.port}${target.pathname.replace(/\/+$/, '')}`,
    queue(match, ...faults) {
      for (const fault of faults) queued.push({ match, fault });
    },
    seen,
    stop: () => server.stop(),
  };
}
