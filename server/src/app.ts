/**
 * The HTTP application, built from its dependencies and never listening: the CDS Hooks routes,
 * the study-complete triggers, the SMART viewer app with its API (when configured) and a health
 * check. main.ts (or a test) decides where it listens.
 */
import express, { type Express } from 'express';
import { createCdsRouter, type CdsRouterDeps } from '../../cds-hooks/router';
import { errorMiddleware } from './http';
import type { Log } from './log';
import { createTriggerRouter, type TriggerDeps } from './triggers/router';
import { createViewerRouter, type ViewerRouterDeps } from './viewer/router';

export interface AppDeps {
  cds: CdsRouterDeps;
  triggers: TriggerDeps;
  viewer?: ViewerRouterDeps;
  log: Log;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(createCdsRouter(deps.cds));
  app.use(createTriggerRouter(deps.triggers));
  if (deps.viewer) app.use(createViewerRouter(deps.viewer));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use(errorMiddleware(deps.log));
  return app;
}
