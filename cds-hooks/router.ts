/**
 * The CDS Hooks HTTP surface, derived from the service definitions: discovery, one POST route per
 * service and its feedback route, CORS for browser-based CDS clients (preflight included), and
 * JWT authentication of every call with the service's own URL as the audience.
 */
import cors from 'cors';
import express, { type Request, type Router } from 'express';
import type { z } from 'zod';
import { KneeTumorError } from '../server/src/errors';
import { bearerToken, respond } from '../server/src/http';
import type { Log } from '../server/src/log';
import { describeIssues } from '../server/src/validation-issues';
import type { CdsAuthenticator } from './auth';
import { FeedbackRequestSchema, type FeedbackStore } from './feedback';
import { discovery } from './services';
import { HookRequestSchema, type CdsService, type HookRequest, type HookSettings } from './types';

export interface CdsRouterDeps {
  services: readonly CdsService[];
  context: HookSettings;
  authenticate: CdsAuthenticator;
  feedback: FeedbackStore;
  /** Public base URL of this service (without /cds-services). */
  baseUrl: string;
  log: Log;
}

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
  const base = `${deps.baseUrl.replace(/\/+$/, '')}/cds-services`;
  router.use(cors({ origin: '*', methods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['Authorization', 'Content-Type'], maxAge: 600 }));
  router.use(express.json({ limit: '5mb' }));

  const document = discovery(deps.services);
  router.get('/cds-services', respond(async () => ({ status: 200, body: document })));

  for (const service of deps.services) {
    const endpoint = `${base}/${service.id}`;
    router.post(
      `/cds-services/${service.id}`,
      respond(async (req: Request) => {
        const caller = await deps.authenticate(bearerToken(req), endpoint);
        const request = parse(HookRequestSchema, req.body, 'hook request') as HookRequest;
        if (request.hook !== service.hook) throw new KneeTumorError('bad-request', `service ${service.id} answers ${service.hook}, not ${request.hook}`);
        const response = await service.handle(request, { ...deps.context, caller });
        deps.log('hook-answered', { service: service.id, hookInstance: request.hookInstance, issuer: caller.issuer, cards: response.cards.length });
        return { status: 200, body: response };
      }),
    );
    router.post(
      `/cds-services/${service.id}/feedback`,
      respond(async (req: Request) => {
        const caller = await deps.authenticate(bearerToken(req), [endpoint, `${endpoint}/feedback`]);
        const feedback = parse(FeedbackRequestSchema, req.body, 'feedback');
        const stored = deps.feedback.record(service.id, caller.issuer, feedback);
        deps.log('feedback-stored', { service: service.id, count: stored });
        return { status: 200, body: {} };
      }),
    );
  }
  return router;
}
