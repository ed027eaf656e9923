/**
 * The three ways a completed study reaches us, each with its own shared secret (bearer token):
 * Orthanc's stable-study Lua callback, a FHIR Subscription rest-hook notification, and a plain
 * authenticated HTTP call for other PACS. All of them enqueue the same idempotent job.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { TriggersConfig } from '../config';
import { isKneeTumorError, KneeTumorError } from '../errors';
import type { FhirClient } from '../fhir/client';
import { bearerToken, jsonBody, respond, sameSecret, type HandlerResult } from '../http';
import type { JobState, JobStore, TriggerSource } from '../jobs/store';
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
  /** The Retry-After of a trigger that cannot be stored (the job database failing). */
  storeRetryMs: number;
}

/** A trigger names one study; a notification may carry its resources (a Bundle of them). */
const TRIGGER_BODY_LIMIT = '16kb';
const NOTIFICATION_BODY_LIMIT = '1mb';
const JSON_TYPES = ['application/json', 'application/fhir+json'];

export function createTriggerRouter(deps: TriggerDeps): Router {
  const router = express.Router();

  const store = async (uid: string, source: TriggerSource) => {
    try {
      return await deps.jobs.enqueue(uid, source);
    } catch (error) {
      if (isKneeTumorError(error) && error.code === 'job-store-unavailable') deps.log('trigger-not-stored', { source, study: uid, code: error.code, reason: error.reason });
      throw error;
    }
  };

  const enqueue = async (uids: string[], source: TriggerSource): Promise<HandlerResult> => {
    const jobs: { studyInstanceUid: string; job: number; state: JobState; created: boolean }[] = [];
    for (const uid of uids) {
      const { job, created } = await store(uid, source);
      deps.log('study-triggered', { source, study: uid, job: job.id, created, state: job.state });
      jobs.push({ studyInstanceUid: uid, job: job.id, state: job.state, created });
    }
    if (jobs.some((j) => j.state === 'queued')) deps.wake();
    return { status: 202, body: { jobs } };
  };

  /** The secret is checked from the header before the body is read. */
  const guarded = (secret: string | undefined, path: string, limit: string, handler: (req: Request) => Promise<HandlerResult>) => {
    if (!secret) return;
    router.post(
      path,
      (req, _res, next) => next(sameSecret(bearerToken(req), secret) ? undefined : new KneeTumorError('unauthorized', 'a valid trigger token is required')),
      ...jsonBody(limit, JSON_TYPES),
      respond(handler),
    );
  };

  guarded(deps.secrets.orthancToken, '/triggers/orthanc', TRIGGER_BODY_LIMIT, async (req) => enqueue([studyUidFromBody(req.body)], 'orthanc'));
  guarded(deps.secrets.httpToken, '/triggers/studies', TRIGGER_BODY_LIMIT, async (req) => enqueue([studyUidFromBody(req.body)], 'http'));
  const fhir = deps.fhir;
  if (fhir) {
    guarded(deps.secrets.subscriptionToken, '/triggers/fhir-subscription', NOTIFICATION_BODY_LIMIT, async (req) =>
      enqueue(await studyUidsFromNotification(req.body, fhir), 'fhir-subscription'),
    );
  }
  // A trigger that cannot be stored is answered 503 with Retry-After: the sender keeps it and sends it again.
  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (isKneeTumorError(error) && error.code === 'job-store-unavailable') res.set('Retry-After', String(Math.ceil(deps.storeRetryMs / 1000)));
    next(error);
  });
  return router;
}
