/**
 * Local HTTP servers that record every request they get: to prove that a URL was never called
 * (an unlisted FHIR server, a jku header), to serve a key set that can be broken or taken down,
 * and to stand in front of the FHIR engine as a careless proxy that drops search parameters (as
 * some servers do with a form-encoded POST _search, or a proxy that rewrites the query).
 */
import express, { type Request, type Response } from 'express';
import { listenOnLoopback } from './loopback';

export interface RecordingServer {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  origin: string;
  /** Method and URL (path and query) of every request, in order. */
  requests: Array<{ method: string; url: string }>;
  /** Closes the port: clients then see connection refused. */
  stop(): Promise<void>;
}

/** `answer` handles each request; by default 404. */
export async function startRecordingServer(answer: (req: Request, res: Response) => void | Promise<void> = (_req, res) => void res.status(404).end()): Promise<RecordingServer> {
  const requests: RecordingServer['requests'] = [];
  const app = express();
  app.use((req, res, next) => {
    requests.push({ method: req.method, url: req.originalUrl });
    Promise.resolve(answer(req, res)).catch(next);
  });
  const { server, origin } = await listenOnLoopback(app);
  let open = true;
  return {
    origin,
    requests,
    stop: () =>
      new Promise((resolve) => {
        if (!open) return resolve();
        open = false;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A proxy in front of a FHIR server that forwards every request without the named search
 * parameters (e.g. `patient`): a search then returns every patient's resources. Its base URL is
 * `${origin}${path of the target base}`.
 */
export async function startParameterDroppingProxy(targetBaseUrl: string, dropped: string[]): Promise<RecordingServer & { baseUrl: string }> {
  const target = new URL(targetBaseUrl);
  const server = await startRecordingServer(async (req, res) => {
    const url = new URL(req.originalUrl, target.origin);
    for (const name of dropped) url.searchParams.delete(name);
    const answer = await fetch(url, { headers: { Accept: req.get('accept') ?? 'application/fhir+json' } });
    res.status(answer.status).type(answer.headers.get('content-type') ?? 'application/fhir+json').send(Buffer.from(await answer.arrayBuffer()));
  });
  return { ...server, baseUrl: `${server.origin}${target.pathname.replace(/\/+$/, '')}` };
}
