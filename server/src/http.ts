/**
 * The one place that writes HTTP responses: handlers take their inputs and return a status and a
 * body; a thrown KneeTumorError becomes its status with `{ error: code, reason }`; anything else
 * becomes a 500 whose stack is logged, never returned.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isKneeTumorError } from './errors';
import type { Log } from './log';

export interface HandlerResult {
  status: number;
  body: unknown;
}

export type Handler = (req: Request) => Promise<HandlerResult>;

export function respond(handler: Handler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req).then(({ status, body }) => {
      res.status(status).json(body);
    }, next);
  };
}

export function errorMiddleware(log: Log) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    if (isKneeTumorError(error)) {
      if (error.httpStatus >= 500) log('request-error', { path: req.path, code: error.code });
      res.status(error.httpStatus).json(error.toJSON());
      return;
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // express.json() refusing a body that is not JSON
      res.status(400).json({ code: 'bad-request', reason: 'the request body is not valid JSON' });
      return;
    }
    log('request-error', { path: req.path, code: 'internal', stack: (error as Error).stack });
    res.status(500).json({ code: 'internal', reason: 'internal error' });
  };
}

/** The bearer token of a request, or undefined. */
export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}
