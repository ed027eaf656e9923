/**
 * Reconciliation with real servers: an Orthanc with no stable-study callback (every trigger is
 * missed), the FHIR engine, the service and its job database. A knee study stored while the
 * service is down is analysed after restart; a chest study, an old knee study and a study with a
 * job are not queued, also behind a QIDO-RS server that ignores the StudyDate filter; an
 * ImagingStudy on the FHIR server is found by the FHIR search alone.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DiagnosticReport } from 'fhir/r4';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { createFhirClient } from '../../server/src/fhir/client';
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';
import { createWatermarkStore } from '../../server/src/jobs/sqlite/watermark-store';
import { silentLog } from '../../server/src/log';
import { DicomWebSource } from '../../server/src/sources/dicomweb-source';
import { createReconciler, type StudySearch } from '../../server/src/triggers/reconcile';
import { rewriteAttributes } from '../support/dicom-rewrite';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';
import { forward, requestBody, serveOnLoopback } from '../support/loopback-proxy';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { qidoAnalyse, stowFile } from '../support/qido-analyse';
import { startService, waitFor } from '../support/running-service';
import { testConfig } from '../support/service-config';

const RG3 = readFileSync(path.resolve(__dirname, '../../../shared/data/dicom/RG3_512_explicitLE.dcm'));
const TODAY = new Date().toISOString().slice(0, 10).replace(/-/g, '');

const newUid = () => `2.25.${randomInt(1, 2 ** 47)}${randomInt(1, 2 ** 47)}`;

/** An AP and a lateral radiograph of one new study, with the body part and date given. */
async function storeStudy(orthanc: RunningOrthanc, bodyPart: string, studyDate: string): Promise<string> {
  const study = newUid();
  for (const view of ['AP', 'LAT']) {
    const file = rewriteAttributes(RG3, { StudyInstanceUID: study, SeriesInstanceUID: newUid(), SOPInstanceUID: newUid(), BodyPartExamined: bodyPart, StudyDate: studyDate, ViewPosition: view });
    await stowFile(orthanc.dicomWebUrl, file);
  }
  return study;
}

let fhir: RunningFhirServer;
let orthanc: RunningOrthanc;
beforeAll(async () => {
  fhir = await startFhirServer();
  orthanc = await startOrthanc();
}, 60000);
afterAll(async () => {
  await orthanc?.stop();
  await fhir?.stop();
});

function reconcilerOn(databasePath: string, pacs: StudySearch | undefined, withFhir: boolean) {
  const jobs = createJobStore(openDatabase(databasePath), 'knee-tumor@1.0.0');
  const reconciler = createReconciler({
    jobs,
    watermarks: createWatermarkStore(openDatabase(databasePath)),
    pacs,
    fhir: withFhir ? createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }) : undefined,
    knee: { source: new DicomWebSource(new DicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 3000 })), kneeOrder: async () => undefined, acceptUnconfirmedBodyPart: false },
    policy: { enabled: true, intervalMs: 60000, lookbackDays: 3, pageSize: 2 },
    wake: () => undefined,
    log: silentLog,
  });
  return { jobs, reconciler };
}

it('a knee study stored while the service is down is analysed after restart; chest, old and known studies are not queued', async () => {
  const config = testConfig(fhir.baseUrl, [], { pacs: { dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 3000 }, reconcile: { intervalMs: 60000 } });
  const analyse = qidoAnalyse(orthanc.dicomWebUrl);
  const known = await storeStudy(orthanc, 'KNEE', TODAY);
  await registerStudy(fhir, known);
  // Before: the service ran on its triggers alone, and one queued this study.
  const first = await startService({ ...config, reconcile: { ...config.reconcile, enabled: false } }, analyse);
  try {
    await first.service.jobs.enqueue(known, 'orthanc');
    first.service.worker.wake();
    await waitFor('the triggered study to be analysed', async () => ((await first.service.jobs.forStudy(known))?.state === 'done' ? true : undefined));
  } finally {
    await first.stop();
  }

  const missed = await storeStudy(orthanc, 'KNEE', TODAY);
  const chest = await storeStudy(orthanc, 'CHEST', TODAY);
  const old = await storeStudy(orthanc, 'KNEE', '20040826');
  const { patientId } = await registerStudy(fhir, missed);

  const restarted = await startService(config, analyse);
  try {
    const job = await waitFor('the missed study to be analysed', async () => {
      const j = await restarted.service.jobs.forStudy(missed);
      return j?.state === 'done' ? j : undefined;
    });
    expect(job).toMatchObject({ source: 'reconcile', attempts: 1 });
    const reports = await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
    expect(reports.map((r) => `DiagnosticReport/${r.id}`)).toEqual([job.report]);
    expect(await restarted.service.jobs.forStudy(chest)).toBeUndefined();
    expect(await restarted.service.jobs.forStudy(old)).toBeUndefined();
    expect(await restarted.service.jobs.forStudy(known)).toMatchObject({ source: 'orthanc' });
    // A further pass queues nothing: every knee study in the window has its job.
    expect((await restarted.service.reconciler?.runOnce())?.queued).toEqual([]);
  } finally {
    await restarted.stop();
  }
}, 120000);

it('a QIDO-RS server that ignores StudyDate queues no old study', async () => {
  const recent = await storeStudy(orthanc, 'KNEE', TODAY);
  const old = await storeStudy(orthanc, 'KNEE', '20040826');
  let oldAnswered = false;
  const origin = orthanc.dicomWebUrl.replace(/\/dicom-web$/, '');
  const proxy = await serveOnLoopback(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://proxy');
    url.searchParams.delete('StudyDate');
    const answer = await forward(origin, Object.assign(request, { url: `${url.pathname}${url.search}` }), await requestBody(request));
    if (answer.body.includes(old)) oldAnswered = true;
    response.writeHead(answer.status, { 'Content-Type': answer.contentType });
    response.end(answer.body);
  });
  try {
    const dir = path.dirname(testConfig(fhir.baseUrl, []).jobs.databasePath);
    const { jobs, reconciler } = reconcilerOn(path.join(dir, 'jobs.sqlite'), new DicomWebClient({ dicomWebUrl: `http://127.0.0.1:${proxy.port}/dicom-web`, timeoutMs: 3000 }), false);
    const run = await reconciler.runOnce();
    expect(oldAnswered).toBe(true);
    expect(run.queued).toContain(recent);
    expect(run.queued).not.toContain(old);
    expect(await jobs.forStudy(old)).toBeUndefined();
    expect(await jobs.forStudy(recent)).toMatchObject({ state: 'queued', source: 'reconcile' });
  } finally {
    await proxy.stop();
  }
}, 120000);

it('with the Subscription trigger, an available ImagingStudy the notification never announced is queued from the FHIR search', async () => {
  const uid = await storeStudy(orthanc, 'KNEE', '20040826');
  await registerStudy(fhir, uid);
  const dir = path.dirname(testConfig(fhir.baseUrl, []).jobs.databasePath);
  const { jobs, reconciler } = reconcilerOn(path.join(dir, 'jobs.sqlite'), undefined, true);
  const run = await reconciler.runOnce();
  expect(run.queued).toContain(uid);
  expect(await jobs.forStudy(uid)).toMatchObject({ source: 'reconcile' });
  // The watermark moved past it: the next pass does not look at it again.
  expect((await reconciler.runOnce()).unknown).toBe(0);
}, 60000);
