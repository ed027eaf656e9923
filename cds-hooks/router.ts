/**
 * The CDS Hooks HTTP surface, derived from the service definitions: discovery, one POST route per
 * service and its feedback route, CORS for browser-based CDS clients (preflight included, on
 * these routes only), and JWT authentication of every call with the service's own URL as the
 * audience, from the Authorization header before the body is read: an unauthenticated body, however
 * large, is never parsed. Each route takes JSON up to its own limit (413 beyond).
 */
import cors from 'cors';
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { z } from 'zod';
import { isKneeTumorError, KneeTumorError } from '../server/src/errors';
import { bearerToken, jsonBody, respond } from '../server/src/http';
import type { Log } from '../server/src/log';
import { describeIssues } from '../server/src/validation-issues';
import { createCdsAuthenticator, type CdsCaller } from './auth';
import type { CdsClientConfig } from '../server/src/config';
import type { FeedbackStore } from '../server/src/jobs/feedback-store';
import { cardFeedbackOf, FeedbackRequestSchema } from './feedback';
import { CDS_SERVICES, discovery } from './services';
import { HookRequestSchema, type HookRequest, type HookSettings } from './types';

export interface CdsRouterDeps {
  /** The CDS clients we trust (issuer, keys, FHIR servers) and how long one of their JWTs may live. */
  clients: CdsClientConfig[];
  maxTokenAgeSeconds: number;
  context: HookSettings;
  feedback: FeedbackStore;
  /** Public base URL of this service (without /cds-services). */
  baseUrl: string;
  log: Log;
  /** The audit trail: refused tokens and feedback, by issuer and service. */
  audit: Log;
  /** Counts a hook call by service and HTTP status, with its latency (the service's metrics). */
  hookAnswered: (service: string, status: number, seconds: number) => void;
}

/** A hook carries its prefetch (a patient's studies and reports); feedback a few card outcomes. */
const HOOK_BODY_LIMIT = '5mb';
const FEEDBACK_BODY_LIMIT = '64kb';

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error, '(body)');
    throw new KneeTumorError('bad-request', `invalid ${what}: ${issues}`);
  }
  return parsed.data;
}

export function createCdsRouter(deps: CdsRouterDeps): Router {
  const router = express.Router();
  const authenticate = createCdsAuthenticator({ clients: deps.clients, maxTokenAgeSeconds: deps.maxTokenAgeSeconds });
  const base = `${deps.baseUrl.replace(/\/+$/, '')}/cds-services`;
  router.use('/cds-services', cors({ origin: '*', methods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 600 }));

  const callers = new WeakMap<Request, CdsCaller>();
  /** Authenticates from the header alone; the body stays unread until the caller is known. */
  const authenticated =
    (service: string, audience: string | string[]): RequestHandler =>
    (req, _res, next) => {
      authenticate(bearerToken(req), audience).then(
        (caller) => {
          callers.set(req, caller);
          next();
        },
        (error: unknown) => {
          if (isKneeTumorError(error) && error.code === 'unauthorized') deps.audit('token-refused', { surface: 'cds', service, code: error.code, reason: error.reason });
          next(error);
        },
      );
    };
  const callerOf = (req: Request) => callers.get(req) as CdsCaller;

  const document = discovery(CDS_SERVICES);
  router.get('/cds-services', respond(async () => ({ status: 200, body: document })));

  const known = new Set(CDS_SERVICES.map((s) => s.id));
  // Refusals (401, 413) are counted too, so the timing starts before authentication.
  router.post('/cds-services/:id', (req, res, next) => {
    const started = process.hrtime.bigint();
    const id = known.has(String(req.params.id)) ? String(req.params.id) : 'unknown';
    res.once('finish', () => deps.hookAnswered(id, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    next();
  });

  for (const service of CDS_SERVICES) {
    const endpoint = `${base}/${service.id}`;
    router.post(
      `/cds-services/${service.id}`,
      authenticated(service.id, endpoint),
      ...jsonBody(HOOK_BODY_LIMIT),
      respond(async (req: Request) => {
        const caller = callerOf(req);
        const request = parse(HookRequestSchema, req.body, 'hook request') as HookRequest;
        if (request.hook !== service.hook) throw new KneeTumorError('bad-request', `service ${service.id} answers ${service.hook}, not ${request.hook}`);
        const response = await service.handle(request, { ...deps.context, caller });
        deps.log('hook-answered', { service: service.id, hookInstance: request.hookInstance, issuer: caller.issuer, cards: response.cards.length });
        return { status: 200, body: response };
      }),
    );
    router.post(
      `/cds-services/${service.id}/feedback`,
      authenticated(service.id, [endpoint, `${endpoint}/feedback`]),
      ...jsonBody(FEEDBACK_BODY_LIMIT),
      respond(async (req: Request) => {
        const caller = callerOf(req);
        const feedback = parse(FeedbackRequestSchema, req.body, 'feedback');
        const stored = await deps.feedback.record(service.id, caller.issuer, cardFeedbackOf(feedback));
        deps.log('feedback-stored', { service: service.id, count: stored });
        deps.audit('feedback', { surface: 'cds', service: service.id, issuer: caller.issuer, count: stored });
        return { status: 200, body: {} };
      }),
    );
  }
  return router;
}
