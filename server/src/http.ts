/**
 * The one place that writes HTTP responses: handlers take their inputs and return a status and a
 * body; a thrown KneeTumorError becomes its status with `{ error: code, reason }`; anything else
 * becomes a 500 whose stack is logged, never returned.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
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
    log('request-error', { path: req.path, code: 'internal', stack: (error as Error).stack });
    res.status(500).json({ code: 'internal', reason: 'internal error' });
  };
}

/** The bearer token of a request, or undefined. */
export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/** A route's body limit as written beside it ('16kb', '5mb': 1 kb = 1024 bytes), in bytes. */
function limitInBytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(limit);
  if (!match) throw new Error(`a body limit must be written like 16kb or 5mb, not ${limit}`);
  return Number(match[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[(match[2] as string).toLowerCase() as 'b' | 'kb' | 'mb'];
}

/**
 * The body's bytes, refused as soon as they pass `limit`: the stream is paused there and the answer
 * (with Connection: close, see errorMiddleware) ends the connection, so the rest is never read.
 */
function readBody(req: Request, limit: number, tooLarge: () => KneeTumorError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (error?: KneeTumorError) => {
      req.off('data', onData).off('end', onEnd).off('error', onCut).off('close', onCut);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) return void chunks.push(chunk);
      req.pause();
      settle(tooLarge());
    };
    const onEnd = () => settle();
    const onCut = () => settle(new KneeTumorError('bad-request', 'the request body was cut short'));
    req.on('data', onData).on('end', onEnd).on('error', onCut).on('close', onCut);
  });
}

/**
 * A body of at most `limit`, of one of `types`, in UTF-8 and not compressed, handed to `parse`: a
 * larger one is refused with 413 from its Content-Length before a byte is read, or as soon as a
 * body sent without one passes the limit; a body of another type is refused with 415 instead of
 * reaching the handler as nothing.
 */
function limitedBody(limit: string, types: string[], parse: (text: string) => unknown): RequestHandler[] {
  const bytes = limitInBytes(limit);
  const tooLarge = () => new KneeTumorError('payload-too-large', `the request body is larger than this route takes (${limit})`);
  const read: RequestHandler = (req, _res, next) => {
    const declared = req.get('content-length');
    if (req.get('transfer-encoding') === undefined && Number(declared ?? 0) === 0) return next();
    if (!req.is(types)) return next(new KneeTumorError('unsupported-media-type', `the request body must be ${types.join(' or ')}`));
    const charset = /;\s*charset="?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1]?.toLowerCase();
    const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
    if ((charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') || encoding !== 'identity') {
      return next(new KneeTumorError('unsupported-media-type', `the request body must be ${types.join(' or ')} in UTF-8, not compressed`));
    }
    if (declared !== undefined && Number(declared) > bytes) return next(tooLarge());
    readBody(req, bytes, tooLarge).then((body) => {
      try {
        req.body = parse(body.toString('utf8'));
      } catch (error) {
        return next(error);
      }
      next();
    }, next);
  };
  return [read];
}

/** A JSON body of at most `limit` (see limitedBody); one that is not JSON is refused with 400. */
export function jsonBody(limit: string, types: string[] = ['application/json']): RequestHandler[] {
  return limitedBody(limit, types, (text) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new KneeTumorError('bad-request', 'the request body is not valid JSON');
    }
  });
}

/** A form body (application/x-www-form-urlencoded) of at most `limit`, kept as its text (see limitedBody). */
export function formBody(limit: string): RequestHandler[] {
  return limitedBody(limit, ['application/x-www-form-urlencoded'], (text) => text);
}

/** Whether a presented secret (a bearer token) is the expected one, compared in constant time. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
