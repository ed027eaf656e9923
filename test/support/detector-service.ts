/**
 * The service as it runs against a PACS: a real Orthanc, the test FHIR engine and the production
 * analysis (DicomWebSource, the pipeline) with the small test detector. Studies are stored,
 * triggered and awaited as a PACS and an EHR would.
 */
import request from 'supertest';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import type { Job } from '../../server/src/jobs/store';
import { loadPacsAnalysis } from '../../server/src/pipeline/pacs-analysis';
import { startFhirServer, type RunningFhirServer } from './fhir-server';
import { startOrthanc } from './orthanc';
import { startService, waitFor, type RunningService } from './running-service';
import { testConfig, TRIGGER_TOKEN } from './service-config';
import { TEST_DETECTOR_MANIFEST } from './test-detector';

export interface DetectorService {
  fhir: RunningFhirServer;
  /** The Orthanc the service reads, for storing studies (STOW-RS). */
  pacs: DicomWebClient;
  running: RunningService;
  /** Tells the service that a study is complete (POST /triggers/studies). */
  trigger(studyInstanceUid: string): Promise<void>;
  /** The study's job once it is done or failed. */
  settled(studyInstanceUid: string, timeoutMs?: number): Promise<Job>;
  stop(): Promise<void>;
}

export async function startDetectorService(): Promise<DetectorService> {
  const fhir = await startFhirServer();
  const orthanc = await startOrthanc();
  const pacs = { dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 20000 };
  // The test detector is a demonstration model, which the service runs only when allowed.
  const config = testConfig(fhir.baseUrl, [], { pacs, model: { manifestPath: TEST_DETECTOR_MANIFEST, cpuThreads: 1, allowDemonstrationModel: true } });
  const { analyse, detector } = await loadPacsAnalysis(pacs, config.model, config.analysis, () => undefined);
  const running = await startService(config, analyse, detector.identity);
  return {
    fhir,
    pacs: new DicomWebClient(pacs),
    running,
    async trigger(studyInstanceUid) {
      await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid }).expect(202);
    },
    settled: (studyInstanceUid, timeoutMs) =>
      waitFor(
        'the job to settle',
        async () => {
          const job = await running.service.jobs.forStudy(studyInstanceUid);
          return job?.state === 'done' || job?.state === 'failed' ? job : undefined;
        },
        timeoutMs,
      ),
    async stop() {
      await running.stop();
      await detector.release();
      await orthanc.stop();
      await fhir.stop();
    },
  };
}
