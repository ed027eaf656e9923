/**
 * What the tests' reverse proxies share: reading a request's body, passing a request on to the
 * real server behind them, and listening on a free loopback port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback';

export async function requestBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface ForwardedAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Sends the request on to `origin` with its path, headers (but the hop-by-hop ones and `drop`) and body. */
export async function forward(origin: string, request: IncomingMessage, body: Buffer, drop: string[] = []): Promise<ForwardedAnswer> {
  const skipped = new Set(['host', 'content-length', 'connection', ...drop]);
  const answer = await fetch(`${origin}${request.url ?? '/'}`, {
    method: request.method ?? 'GET',
    headers: Object.fromEntries(Object.entries(request.headers).filter(([k]) => !skipped.has(k))) as Record<string, string>,
    ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
  });
  return { status: answer.status, contentType: answer.headers.get('content-type') ?? 'application/octet-stream', body: Buffer.from(await answer.arrayBuffer()) };
}

export interface LoopbackServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves `handle` on a loopback port the kernel picks at listen time; a handler that throws answers
 * 500 with the error.
 */
export async function serveOnLoopback(handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<LoopbackServer> {
  const { server, port } = await listenOnLoopback((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
