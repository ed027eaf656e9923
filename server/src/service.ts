/**
 * Composition of the CDS service from the configuration: the job database, the worker that runs
 * `analyse` and writes the report to the FHIR server, the CDS Hooks routes and the triggers.
 * main.ts calls createService(config, analyse, model), listens with `service.app`, and calls
 * `service.start()`; tests do the same with a test double of `analyse`.
 */
import * as path from 'node:path';
import type { Express } from 'express';
import { CDS_SERVICES } from '../../cds-hooks/services';
import { createCdsAuthenticator } from '../../cds-hooks/auth';
import { createFeedbackStore, type FeedbackStore } from '../../cds-hooks/feedback';
import { createApp } from './app';
import type { Config } from './config';
import { isDemonstrationModel, type AnalysisResult, type ModelIdentity } from './domain/analysis';
import { KneeTumorError } from './errors';
import { DicomWebClient } from './dicomweb/client';
import { createFhirClient } from './fhir/client';
import { kneeOrderOfStudy, loadKneeRadiographCodes } from './fhir/knee-orders';
import type { StudyContext } from './pipeline/locate-study';
import { writeReport } from './fhir/write-report';
import { openDatabase } from './jobs/database';
import { createJobStore, type JobStore } from './jobs/store';
import { createJobWorker, type JobWorker } from './jobs/worker';
import { jsonLog, type Log } from './log';
import { createSmartAuthenticator } from './viewer/smart-auth';
import type { ViewerRouterDeps } from './viewer/router';

/** The built SMART app, dist/client, whether this file runs compiled (dist/server/src) or as TypeScript (server/src, in tests). */
const CLIENT_DIR = path.resolve(__dirname, path.basename(path.resolve(__dirname, '../..')) === 'dist' ? '../../client' : '../../dist/client');

/** The analysis of one study; `context` is what the EHR knows of it (the order that can confirm the knee). */
export type Analyse = (studyInstanceUid: string, context?: StudyContext) => Promise<AnalysisResult>;

export interface KneeTumorService {
  app: Express;
  jobs: JobStore;
  worker: JobWorker;
  feedback: FeedbackStore;
  /** Recovers interrupted jobs and starts the worker. */
  start(): void;
  /** Lets the job in progress finish, then closes the database. */
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
  const db = openDatabase(config.jobs.databasePath);
  const modelKey = `${model.name}@${model.version}`;
  const jobs = createJobStore(db, modelKey);
  const feedback = createFeedbackStore(db, modelKey);
  const fhir = createFhirClient(fhirConfig);
  // A knee radiograph order for the study confirms the knee where its images' attributes do not.
  const kneeRadiographCodes = loadKneeRadiographCodes(config.orders);
  const analyseWithOrder = async (uid: string) => analyse(uid, { kneeOrder: await kneeOrderOfStudy(kneeRadiographCodes, fhir, uid) });
  const worker = createJobWorker({ store: jobs, analyse: analyseWithOrder, writeReport: (result) => writeReport(fhir, result), policy: config.jobs, log });
  // The viewer needs both whose tokens to trust and a PACS to render from; without them it is not served.
  const viewer: ViewerRouterDeps | undefined =
    config.smart && config.pacs
      ? {
          authenticate: createSmartAuthenticator(config.smart),
          appSettings: { ...config.smart.app, allowedIssuers: config.smart.app.allowedIssuers ?? [config.smart.fhirBaseUrl] },
          pacs: new DicomWebClient(config.pacs),
          fhir,
          jobs,
          feedback,
          clientDir: CLIENT_DIR,
          log,
        }
      : undefined;
  const app = createApp({
    cds: {
      services: CDS_SERVICES,
      context: {
        jobs,
        appLaunchUrl: service.appLaunchUrl,
        modelCardUrl: service.modelCardUrl,
        studiesPerCard: service.studiesPerCard,
        currentStudyDays: service.currentStudyDays,
        fhirTimeoutMs: fhirConfig.timeoutMs,
        log,
        kneeRadiographCodes,
      },
      authenticate: createCdsAuthenticator({ clients: config.cdsClients, maxTokenAgeSeconds: service.maxTokenAgeSeconds }),
      feedback,
      baseUrl: service.baseUrl,
      log,
    },
    triggers: { secrets: config.triggers, jobs, wake: () => worker.wake(), fhir, log },
    viewer,
    log,
  });
  return {
    app,
    jobs,
    worker,
    feedback,
    start: () => worker.start(),
    async stop() {
      await worker.stop();
      db.close();
    },
  };
}
