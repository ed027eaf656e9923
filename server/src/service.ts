/**
 * Composition of the CDS service from the configuration: the job database, the worker that runs
 * `analyse` and hands the result to the result writers (the FHIR server), the CDS Hooks routes and the triggers.
 * main.ts calls createService(config, analyse, model), listens with `service.app`, and calls
 * `service.start()`; tests do the same with a test double of `analyse`.
 */
import { access, constants } from 'node:fs/promises';
import * as path from 'node:path';
import type { Express } from 'express';
import type { FeedbackStore } from './jobs/feedback-store';
import { createApp } from './app';
import { REPOSITORY_ROOT, type Config } from './config';
import { isDemonstrationModel, type AnalysisResult, type ModelIdentity } from './domain/analysis';
import { KneeTumorError } from './errors';
import { DicomWebClient } from './dicomweb/client';
import { createFhirClient } from './fhir/client';
import { kneeOrderOfStudy, loadKneeRadiographCodes } from './fhir/knee-orders';
import type { Analyse } from './pipeline/run-analysis';
import { createFhirResultWriter } from './results/fhir/write-report';
import type { ResultWriter } from './results/result-writer';
import { openSqliteStores } from './jobs/sqlite/stores';
import type { JobStore } from './jobs/store';
import { createJobWorker, type JobWorker } from './jobs/worker';
import { jsonLog, type Log } from './log';
import { createAuditTrail } from './ops/audit';
import { createMetrics } from './ops/metrics';
import { createSmartAuthenticator } from './viewer/smart-auth';
import { DicomWebSource } from './sources/dicomweb-source';
import { createReconciler, type Reconciler } from './triggers/reconcile';
import type { ViewerRouterDeps } from './viewer/router';

/** The built SMART app, dist/client, whether this file runs compiled (dist/server/src) or as TypeScript (server/src, in tests). */
const CLIENT_DIR = path.join(REPOSITORY_ROOT, 'dist/client');


export interface KneeTumorService {
  app: Express;
  jobs: JobStore;
  worker: JobWorker;
  feedback: FeedbackStore;
  /** Finds studies whose trigger was missed; undefined when reconcile.enabled is false or there is nothing to search. */
  reconciler?: Reconciler;
  /** Recovers interrupted jobs, starts the worker and the reconciliation. */
  start(): void;
  /** Lets the job and the reconciliation in progress finish, then closes the database. */
  stop(): Promise<void>;
}

/**
 * A demonstration model's findings on real radiographs mean nothing, so a service connected to a
 * real PACS and EHR must not run one by accident. It is the configuration that is wrong (the model
 * itself is valid and the CLI runs it), hence config-invalid.
 */
function assertModelAllowed(config: Config, model: ModelIdentity): void {
  if (isDemonstrationModel(model) && !config.model.allowDemonstrationModel) {
    throw new KneeTumorError(
      'config-invalid',
      `the model ${model.name} ${model.version} is a demonstration model (trained on ${model.trainingData} images): its findings on real radiographs are not meaningful. ` +
        'Point model.manifestPath (KNEE_TUMOR_MODEL) at a model for clinical evaluation, or, for a demonstration only, set model.allowDemonstrationModel (KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL=true)',
    );
  }
}

export function createService(config: Config, analyse: Analyse, model: ModelIdentity, log: Log = jsonLog): KneeTumorService {
  assertModelAllowed(config, model);
  const { fhir: fhirConfig, service } = config;
  if (!fhirConfig || !service) throw new KneeTumorError('config-invalid', 'the CDS service needs the fhir and service sections');
  const stores = openSqliteStores(config.jobs.databasePath, `${model.name}@${model.version}`);
  const { jobs, feedback } = stores;
  const fhir = createFhirClient(fhirConfig);
  // A knee radiograph order for the study confirms the knee where its images' attributes do not.
  const kneeRadiographCodes = loadKneeRadiographCodes(config.orders);
  const analyseWithOrder = async (uid: string) => analyse(uid, { kneeOrder: await kneeOrderOfStudy(kneeRadiographCodes, fhir, uid) });
  const metrics = createMetrics(() => jobs.statistics());
  const audit = createAuditTrail(config.operations.auditLogPath, log);
  const fhirWriter = createFhirResultWriter(fhir);
  // Where results go, in order (the first one's location is the job's report): the FHIR server only, today.
  const writers: ResultWriter[] = [{ name: fhirWriter.name, write: (result) => metrics.timeFhirWrite(() => fhirWriter.write(result)) }];
  const worker = createJobWorker({
    store: jobs,
    analyse: (uid) => metrics.timeAnalysis(() => analyseWithOrder(uid)),
    writers,
    policy: config.jobs,
    log,
  });
  const pacs = config.pacs ? new DicomWebClient(config.pacs) : undefined;
  // Needs the PACS to confirm the knee; the FHIR server is searched too when the Subscription trigger is used.
  const reconciler =
    config.reconcile.enabled && pacs
      ? createReconciler({
          jobs,
          watermarks: stores.watermarks,
          pacs,
          fhir: config.triggers.subscriptionToken ? fhir : undefined,
          knee: {
            source: new DicomWebSource(pacs),
            kneeOrder: (uid) => kneeOrderOfStudy(kneeRadiographCodes, fhir, uid),
            acceptUnconfirmedBodyPart: config.analysis.acceptUnconfirmedBodyPart,
          },
          policy: config.reconcile,
          wake: () => worker.wake(),
          log,
        })
      : undefined;
  // The viewer needs both whose tokens to trust and a PACS to render from; without them it is not served.
  const smartAccess = config.smart && pacs ? createSmartAuthenticator(config.smart, fhirConfig) : undefined;
  const viewer: ViewerRouterDeps | undefined =
    config.smart && pacs && smartAccess
      ? {
          ...smartAccess,
          appSettings: { ...config.smart.app, allowedIssuers: config.smart.app.allowedIssuers ?? [config.smart.fhirBaseUrl] },
          pacs,
          fhir,
          jobs,
          feedback,
          clientDir: CLIENT_DIR,
          log,
          audit: audit.record,
        }
      : undefined;
  const app = createApp({
    cds: {
      clients: config.cdsClients,
      maxTokenAgeSeconds: service.maxTokenAgeSeconds,
      hookAnswered: metrics.hookAnswered,
      context: {
        jobs,
        appLaunchUrl: service.appLaunchUrl,
        modelCardUrl: service.modelCardUrl,
        studiesPerCard: service.studiesPerCard,
        currentStudyDays: service.currentStudyDays,
        ehrFhir: (baseUrl, token) => createFhirClient({ baseUrl, auth: { type: 'bearer', token }, timeoutMs: fhirConfig.timeoutMs }),
        log,
        kneeRadiographCodes,
      },
      feedback,
      baseUrl: service.baseUrl,
      log,
      audit: audit.record,
    },
    triggers: { secrets: config.triggers, jobs, wake: () => worker.wake(), fhir, log, storeRetryMs: config.jobs.storeRetryMs },
    viewer,
    operations: {
      metrics,
      readinessChecks: {
        ...(pacs ? { pacs: () => pacs.probe() } : {}),
        fhir: async () => void (await fhir.search('ImagingStudy', '_count=1')),
        jobStore: async () => void (await jobs.statistics()),
        model: () => access(config.model.manifestPath, constants.R_OK),
      },
      readinessTimeoutMs: config.operations.readinessTimeoutMs,
      metricsToken: config.operations.metricsToken,
    },
    appConnectOrigins: config.smart ? [config.smart.fhirBaseUrl, ...(config.smart.app.allowedIssuers ?? [])] : [],
    frameAncestors: service.frameAncestors,
    log,
  });
  return {
    app,
    jobs,
    worker,
    feedback,
    reconciler,
    start() {
      worker.start();
      reconciler?.start();
    },
    async stop() {
      await reconciler?.stop();
      await worker.stop();
      stores.close();
      await audit.close();
    },
  };
}
