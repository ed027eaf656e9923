/**
 * The HTTP application, built from its dependencies and never listening: the CDS Hooks routes,
 * the study-complete triggers, the SMART viewer app with its API (when configured), liveness,
 * readiness and metrics. main.ts (or a test) decides where it listens.
 *
 * Every answer carries helmet's security headers; the Content-Security-Policy lets the SMART app
 * load only its own scripts and talk only to us and to the EHR (fhirclient reads the EHR's FHIR
 * server and exchanges the code at its token endpoint). Answers about patients are never cached.
 * CORS is granted by the CDS router alone: EHR browsers call discovery and hooks from their own
 * origin, while the app calls /app-api from the origin that serves it and /triggers is for servers.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createCdsRouter, type CdsRouterDeps } from '../../cds-hooks/router';
import { KneeTumorError } from './errors';
import { bearerToken, errorMiddleware, sameSecret } from './http';
import type { Log } from './log';
import { readiness, type ReadinessCheck } from './ops/health';
import type { ServiceMetrics } from './ops/metrics';
import { createTriggerRouter, type TriggerDeps } from './triggers/router';
import { createViewerRouter, type ViewerRouterDeps } from './viewer/router';

export interface OperationsDeps {
  metrics: ServiceMetrics;
  /** What /ready checks, by the name it answers under (pacs, fhir, jobStore, model). */
  readinessChecks: Record<string, ReadinessCheck>;
  readinessTimeoutMs: number;
  /** When set, /metrics requires it as a bearer token. */
  metricsToken?: string;
}

export interface AppDeps {
  cds: CdsRouterDeps;
  triggers: TriggerDeps;
  viewer?: ViewerRouterDeps;
  operations: OperationsDeps;
  /** Origins the SMART app may fetch from besides ours (the EHR's FHIR and authorization servers); any https origin is allowed anyway. */
  appConnectOrigins: string[];
  /** Origins (an EHR) whose pages may frame the SMART app, besides ours. */
  frameAncestors: string[];
  log: Log;
}

function securityHeaders(deps: AppDeps) {
  const origins = (urls: string[]) => [...new Set(urls.map((u) => new URL(u).origin))];
  return helmet({
    contentSecurityPolicy: {
      directives: {
        // The EHR's token endpoint is discovered at launch: any https origin, or plain HTTP on
        // loopback (the demo, tests); the configured EHR origins whatever their scheme.
        'connect-src': ["'self'", 'https:', 'http://127.0.0.1:*', 'http://localhost:*', ...origins(deps.appConnectOrigins)],
        'img-src': ["'self'", 'data:', 'blob:'],
        'frame-ancestors': ["'self'", ...origins(deps.frameAncestors)],
        // TLS ends at the reverse proxy; on loopback (tests, the demo) the app talks plain HTTP.
        'upgrade-insecure-requests': null,
      },
    },
    // An EHR that embeds the app is named in frame-ancestors, which X-Frame-Options cannot express.
    xFrameOptions: deps.frameAncestors.length > 0 ? false : { action: 'sameorigin' },
    // An EHR may open the app in a window it keeps a handle on.
    crossOriginOpenerPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
}

function noStore(_req: Request, res: Response, next: NextFunction) {
  res.set('Cache-Control', 'no-store');
  next();
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(deps));
  app.use(['/cds-services', '/app-api'], noStore);
  app.use(createCdsRouter(deps.cds));
  app.use(createTriggerRouter(deps.triggers));
  if (deps.viewer) app.use(createViewerRouter(deps.viewer));

  app.get('/health', noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', noStore, (_req, res, next) => {
    readiness(deps.operations.readinessChecks, deps.operations.readinessTimeoutMs).then((answer) => {
      res.status(answer.ready ? 200 : 503).json({ status: answer.ready ? 'ready' : 'unready', checks: answer.checks });
    }, next);
  });
  app.get('/metrics', noStore, (req, res, next) => {
    const { metricsToken } = deps.operations;
    if (metricsToken && !sameSecret(bearerToken(req), metricsToken)) return next(new KneeTumorError('unauthorized', 'the metrics token is required'));
    const { registry } = deps.operations.metrics;
    registry.metrics().then((text) => {
      res.type(registry.contentType).send(text);
    }, next);
  });
  app.use(errorMiddleware(deps.log));
  return app;
}
