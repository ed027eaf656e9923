/**
 * The HTTP application, built from its dependencies and never listening: the CDS Hooks routes,
 * the study-complete triggers and a health check. main.ts (or a test) decides where it listens.
 */
import express, { type Express } from 'express';
import { createCdsRouter, type CdsRouterDeps } from '../../cds-hooks/router';
import { errorMiddleware } from './http';
import type { Log } from './log';
import { createTriggerRouter, type TriggerDeps } from './triggers/router';

export interface AppDeps {
  cds: CdsRouterDeps;
  triggers: TriggerDeps;
  log: Log;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(createCdsRouter(deps.cds));
  app.use(createTriggerRouter(deps.triggers));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(errorMiddleware(deps.log));
  return app;
}
