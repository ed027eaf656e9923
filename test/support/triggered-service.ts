/**
 * The end-to-end stack of the CDS service, all real: a FHIR engine, an EHR's CDS client with its
 * signing key, an Orthanc whose stable-study callback triggers the service, and the service with
 * its worker. The analysis is the caller's (the shipped ensemble, or a test double of it).
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Bundle, FhirResource } from 'fhir/r4';
import { PREFETCH, resolveTemplate } from '../../cds-hooks/patient-data';
import type { Config } from '../../server/src/config';
import type { ModelIdentity } from '../../server/src/domain/analysis';
import type { Job } from '../../server/src/jobs/store';
import type { Analyse } from '../../server/src/pipeline/run-analysis';
import { createTestCdsClient, type TestCdsClient } from './cds-client';
import { startFhirServer, type RunningFhirServer } from './fhir-server';
import { listenOnLoopback } from './loopback';
import { startTriggeringOrthanc, type RunningOrthanc } from './orthanc';
import { startService, waitFor, type RunningService } from './running-service';
import { SERVICE_BASE, testConfig } from './service-config';

export interface TriggeredAnalysis {
  analyse: Analyse;
  model?: ModelIdentity;
  release?: () => Promise<void>;
}

export interface TriggeredService {
  fhir: RunningFhirServer;
  ehr: TestCdsClient;
  orthanc: RunningOrthanc;
  running: RunningService;
  /** Waits until the study's job is done or failed. */
  settled(studyInstanceUid: string, timeoutMs?: number): Promise<Job>;
  /** patient-view as the EHR calls it, prefetch filled from the FHIR engine. */
  patientView(patientId: string): Promise<{ indicator: string; summary: string; links: { appContext: string }[] }[]>;
  stop(): Promise<void>;
}

export async function startTriggeredService(
  analysisFor: (orthanc: RunningOrthanc, config: Config) => Promise<TriggeredAnalysis>,
  overrides: Record<string, unknown> = {},
): Promise<TriggeredService> {
  const fhir = await startFhirServer();
  const ehr = await createTestCdsClient();
  // The service's port is taken first: Orthanc's trigger callback is written with it.
  const listening = await listenOnLoopback();
  const { port } = listening;
  const orthanc = await startTriggeringOrthanc(port);
  const config = testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks }], {
    pacs: { dicomWebUrl: orthanc.dicomWebUrl },
    service: { baseUrl: SERVICE_BASE, port, appLaunchUrl: 'https://viewer.example.org/launch', modelCardUrl: 'https://knee-tumor.example.org/model-card' },
    ...overrides,
  });
  const analysis = await analysisFor(orthanc, config);
  const running = await startService(config, analysis.analyse, analysis.model, listening);
  const bundle = (resources: FhirResource[]): Bundle<FhirResource> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  return {
    fhir,
    ehr,
    orthanc,
    running,
    settled: (uid, timeoutMs) =>
      waitFor(
        'the job to be done',
        async () => {
          const job = await running.service.jobs.forStudy(uid);
          return job?.state === 'done' || job?.state === 'failed' ? job : undefined;
        },
        timeoutMs,
      ),
    async patientView(patientId) {
      // Filled from our prefetch templates, as an EHR does (the reports with their Observations).
      const search = (template: string) => fhir.search<FhirResource>(resolveTemplate(template, { patientId }));
      const prefetch = { kneeStudies: bundle(await search(PREFETCH.kneeStudies)), analysisReports: bundle(await search(PREFETCH.analysisReports)) };
      const token = await ehr.token(`${SERVICE_BASE}/cds-services/knee-tumor-patient-view`);
      const hook = await request(running.url)
        .post('/cds-services/knee-tumor-patient-view')
        .set('Authorization', `Bearer ${token}`)
        .send({ hook: 'patient-view', hookInstance: randomUUID(), context: { patientId }, prefetch })
        .expect(200);
      return hook.body.cards;
    },
    async stop() {
      await running.stop();
      await analysis.release?.();
      await orthanc.stop();
      await fhir.stop();
    },
  };
}
