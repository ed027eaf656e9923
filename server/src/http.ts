/**
 * The one place that writes HTTP responses: handlers take their inputs and return a status and a
 * body; a thrown KneeTumorError becomes its status with `{ error: code, reason }`; anything else
 * becomes a 500 whose stack is logged, never returned.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { isKneeTumorError, KneeTumorError } from './errors';
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
    // Refused before its body arrived (a token checked from the header, a Content-Length over the
    // limit): closing the connection after the answer spares us reading megabytes nobody will use.
    if (!req.complete) res.set('Connection', 'close');
    if (isKneeTumorError(error)) {
      if (error.httpStatus >= 500) log('request-error', { path: req.path, code: error.code });
      res.status(error.httpStatus).json(error.toJSON());
      return;
    }
    const refusal = bodyRefusal(error);
    if (refusal) {
      res.status(refusal.httpStatus).json(refusal.toJSON());
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

/** What body-parser's refusals (they carry a status and a `type`) mean to the caller. */
function bodyRefusal(error: unknown): KneeTumorError | undefined {
  const { status, type, limit } = error as { status?: unknown; type?: unknown; limit?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (type === 'entity.too.large') return new KneeTumorError('payload-too-large', `the request body is larger than this route takes (${String(limit)} bytes)`);
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new KneeTumorError('unsupported-media-type', 'the request body must be JSON in UTF-8, not compressed');
  return new KneeTumorError('bad-request', 'the request body is not valid JSON');
}

/**
 * A JSON body of at most `limit`, of one of `types`: a larger one is refused with 413 from its
 * Content-Length before a byte is read (or as soon as the stream passes the limit), a body of
 * another type with 415 instead of reaching the handler as nothing.
 */
export function jsonBody(limit: string, types: string[] = ['application/json']): RequestHandler[] {
  const mediaType: RequestHandler = (req, _res, next) => {
    const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
    if (hasBody && !req.is(types)) return next(new KneeTumorError('unsupported-media-type', `the request body must be ${types.join(' or ')}`));
    next();
  };
  return [mediaType, express.json({ limit, type: types })];
}

/** Whether a presented secret (a bearer token) is the expected one, compared in constant time. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
