/**
 * A loopback HTTP server on the port the kernel gives at listen time. A port picked beforehand
 * (listen on 0, close, listen again later) can be taken meanwhile by another Jest worker, whose
 * service would then answer this file's requests.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListeningServer {
  server: Server;
  port: number;
  /** http://127.0.0.1:<port>, without a trailing slash. */
  origin: string;
}

/** Without `handler`, the caller attaches one later (`server.on('request', …)`) once its port is known to what it serves. */
export async function listenOnLoopback(handler?: RequestListener): Promise<ListeningServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return { server, port, origin: `http://127.0.0.1:${port}` };
}
