/**
 * The job database on a small real file system (a 2 MiB tmpfs, mounted for the test: needs root)
 * that fills up while a job runs: the service stays up and keeps answering, a trigger that cannot
 * be stored is answered 503 with Retry-After and logged, the worker pauses with the finished
 * job's outcome in hand, and once space returns the job is marked done and the refused trigger,
 * sent again, is analysed. Real SQLite file, real FHIR engine, real HTTP.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiagnosticReport } from 'fhir/r4';
import request from 'supertest';
import type { AnalysisResult } from '../../server/src/domain/analysis';
import { createService, type KneeTumorService } from '../../server/src/service';
import { sampleAnalysis } from '../support/analysis-fixture';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { waitFor } from '../support/running-service';
import { TEST_MODEL, TRIGGER_TOKEN, testConfig } from '../support/service-config';

const FIRST = '1.2.826.0.1.3680043.8.498.501';
const SECOND = '1.2.826.0.1.3680043.8.498.502';

/** Fills the file system holding `folder` to the last byte; returns the filler's path. */
function fillFileSystem(folder: string): string {
  const filler = path.join(folder, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

let mountPoint: string;
let fhir: RunningFhirServer;
let service: KneeTumorService;
let server: Server;
let url: string;
const logged: { event: string; fields: Record<string, unknown> }[] = [];
let analysing: () => void;
const analysisStarted = new Promise<void>((resolve) => (analysing = resolve));
let finishAnalysis: () => void;
const analysisMayFinish = new Promise<void>((resolve) => (finishAnalysis = resolve));

beforeAll(async () => {
  mountPoint = mkdtempSync(path.join(os.tmpdir(), 'full-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
  fhir = await startFhirServer();
  const config = testConfig(fhir.baseUrl, [], {
    jobs: { databasePath: path.join(mountPoint, 'jobs.sqlite'), initialBackoffMs: 50, maxBackoffMs: 200, pollIntervalMs: 50, maxAttempts: 3, storeRetryMs: 200 },
  });
  // The first study's analysis waits until the disk is full, so that its outcome meets a full disk.
  const analyse = async (uid: string): Promise<AnalysisResult> => {
    if (uid === FIRST) {
      analysing();
      await analysisMayFinish;
    }
    return sampleAnalysis({ studyInstanceUid: uid });
  };
  service = createService(config, analyse, TEST_MODEL, (event, fields = {}) => logged.push({ event, fields }));
  server = await new Promise((resolve) => {
    const s = service.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  service.start();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await service?.stop();
  await fhir?.stop();
  execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const trigger = (uid: string) => request(url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid });

it('stays up on a full disk, answers a trigger 503 with Retry-After, and completes the job once space returns', async () => {
  const first = await registerStudy(fhir, FIRST);
  const second = await registerStudy(fhir, SECOND);
  await trigger(FIRST).expect(202);
  await analysisStarted;

  const filler = fillFileSystem(mountPoint);
  expect(statfsSync(mountPoint).bavail).toBe(0);
  finishAnalysis();
  // On a timeout the message says what the worker did instead (events and job state; no patient data).
  await waitFor('the worker to pause', () => logged.find((l) => l.event === 'job-store-paused')).catch((error: Error) => {
    throw new Error(`${error.message}; job ${JSON.stringify(service.jobs.forStudy(FIRST))}; events ${JSON.stringify(logged.map((l) => [l.event, l.fields.code ?? l.fields.reason]))}`);
  });
  expect(logged.find((l) => l.event === 'job-store-paused')?.fields.reason).toMatch(/^the job database cannot mark the job done \(SQLITE_FULL\)$/);
  // The report is written; the job waits, running, for the store to record it.
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${first.patientId}`)).toHaveLength(1);
  expect((await service.jobs.forStudy(FIRST))?.state).toBe('running');

  const refused = await trigger(SECOND).expect(503);
  expect(refused.headers['retry-after']).toBe('1');
  expect(refused.body).toEqual({ code: 'job-store-unavailable', reason: 'the job database cannot store the job (SQLITE_FULL)' });
  expect(logged.find((l) => l.event === 'trigger-not-stored')?.fields).toMatchObject({ source: 'http', code: 'job-store-unavailable' });
  expect(await service.jobs.forStudy(SECOND)).toBeUndefined();
  // Still serving: the CDS discovery endpoint answers while the disk is full.
  await request(url).get('/cds-services').expect(200);
  expect((await service.jobs.forStudy(FIRST))?.state).toBe('running');

  rmSync(filler);
  const done = await waitFor('the first job to be done', async () => ((await service.jobs.forStudy(FIRST))?.state === 'done' ? await service.jobs.forStudy(FIRST) : undefined), 10000);
  expect(done).toMatchObject({ attempts: 1 });
  expect(logged.some((l) => l.event === 'job-store-resumed')).toBe(true);

  await trigger(SECOND).expect(202);
  await waitFor('the second job to be done', async () => ((await service.jobs.forStudy(SECOND))?.state === 'done' ? true : undefined), 10000);
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${first.patientId}`)).toHaveLength(1);
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${second.patientId}`)).toHaveLength(1);
});
