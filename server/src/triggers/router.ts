/**
 * The three ways a completed study reaches us, each with its own shared secret (bearer token):
 * Orthanc's stable-study Lua callback, a FHIR Subscription rest-hook notification, and a plain
 * authenticated HTTP call for other PACS. All of them enqueue the same idempotent job.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Router } from 'express';
import type { TriggersConfig } from '../config';
import { KneeTumorError } from '../errors';
import type { FhirClient } from '../fhir/client';
import { bearerToken, respond, type HandlerResult } from '../http';
import type { JobStore, TriggerSource } from '../jobs/store';
import type { Log } from '../log';
import { studyUidFromBody, studyUidsFromNotification } from './study-uids';

export interface TriggerDeps {
  secrets: TriggersConfig;
  jobs: JobStore;
  /** Tells the worker there is work now. */
  wake: () => void;
  /** Where ServiceRequests of notifications are resolved to their ImagingStudies. */
  fhir?: FhirClient;
  log: Log;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createTriggerRouter(deps: TriggerDeps): Router {
  const router = express.Router();
  router.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '5mb' }));

  const enqueue = (uids: string[], source: TriggerSource): HandlerResult => {
    const jobs = uids.map((uid) => {
      const { job, created } = deps.jobs.enqueue(uid, source);
      deps.log('study-triggered', { source, study: uid, job: job.id, created, state: job.state });
      return { studyInstanceUid: uid, job: job.id, state: job.state, created };
    });
    if (jobs.some((j) => j.state === 'queued')) deps.wake();
    return { status: 202, body: { jobs } };
  };

  const guarded = (secret: string | undefined, path: string, handler: (req: Request) => Promise<HandlerResult>) => {
    if (!secret) return;
    router.post(
      path,
      respond(async (req) => {
        if (!sameSecret(bearerToken(req), secret)) throw new KneeTumorError('unauthorized', 'a valid trigger token is required');
        return handler(req);
      }),
    );
  };

  guarded(deps.secrets.orthancToken, '/triggers/orthanc', async (req) => enqueue([studyUidFromBody(req.body)], 'orthanc'));
  guarded(deps.secrets.httpToken, '/triggers/studies', async (req) => enqueue([studyUidFromBody(req.body)], 'http'));
  const fhir = deps.fhir;
  if (fhir) {
    guarded(deps.secrets.subscriptionToken, '/triggers/fhir-subscription', async (req) =>
      enqueue(await studyUidsFromNotification(req.body, fhir), 'fhir-subscription'),
    );
  }
  return router;
}
