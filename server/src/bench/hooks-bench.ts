/**
 * Benchmark (not a test): patient-view latency when the result is already computed, with 50
 * concurrent CDS clients over real HTTP with signed ES384 JWTs (signed before the clock starts,
 * as an EHR signs its own), the clients in a worker thread. Each client is an EHR session: it
 * sends a hook, waits for the answer, then "thinks" for a random (exponential) time before the
 * next. The sweep runs from a busy hospital's pace down to no think time at all, where the
 * clients only measure saturation (with 50 requests always in flight, latency is 50 / throughput
 * whatever the service does). Prints p50/p99/max and throughput per think time.
 * With --oversized-flood: at one think time, the same clients without and then during a flood of
 * unauthenticated 4.4 MB hook bodies (BENCH_FLOOD_SENDERS senders in another process, at niceness
 * BENCH_FLOOD_NICE), which
 * the service refuses from the header before reading them; prints both rows and the flood's answers.
 * With --concurrent-analysis: at one think time, the same clients without and then while phantom
 * knee studies in a real Orthanc are analysed back to back in the service process, in its
 * analysis worker thread as the service runs them (or, with --concurrent-analysis-in-main, on the
 * event loop itself, as before the worker thread, for comparison); prints both rows and the
 * analyses done meanwhile.
 * Run: node -r ./test/support/ts-register.js server/src/bench/hooks-bench.ts [--oversized-flood | --concurrent-analysis]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { DiagnosticReport, ImagingStudy } from 'fhir/r4';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { parseConfig, type PacsConfig } from '../config';
import { AI_NOTICE, type AnalysisResult, type ModelIdentity } from '../domain/analysis';
import { silentLog } from '../log';
import { toFhirTransaction } from '../results/fhir/to-fhir';
import { startAnalysisPool } from '../pipeline/analysis-pool';
import { loadPacsAnalysis } from '../pipeline/pacs-analysis';
import { DicomWebClient } from '../dicomweb/client';
import { startOrthanc } from '../demo/orthanc';
import { generatePatient } from '../../../models/phantoms/generate';
import { median } from './timing';
import { createService } from '../service';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const REQUESTS_PER_CLIENT = Number(process.env.BENCH_REQUESTS ?? 30);
/** Mean think time of each client between its hooks, in milliseconds. */
const THINK_TIMES_MS = [1000, 500, 250, 100, 0];
const OVERSIZED_FLOOD = process.argv.includes('--oversized-flood');
const FLOOD_SENDERS = Number(process.env.BENCH_FLOOD_SENDERS ?? 8);
/** The flood process's niceness: 19 stands in for another machine; 0 lets it compete for the cores. */
const FLOOD_NICE = Number(process.env.BENCH_FLOOD_NICE ?? 19);
const FLOOD_BODY_BYTES = 4.4 * 1024 * 1024;
const FLOOD_THINK_MS = 100;
const ANALYSIS_IN_MAIN = process.argv.includes('--concurrent-analysis-in-main');
const CONCURRENT_ANALYSIS = ANALYSIS_IN_MAIN || process.argv.includes('--concurrent-analysis');
const ANALYSIS_THINK_MS = 100;
/** Phantoms of a seed that neither training nor evaluation used. */
const FRESH_PHANTOM_SEED = 4242;
const BASE = 'https://cds.bench.example.org';
const ISSUER = 'https://ehr.bench.example.org';
const SERVICE_ID = 'knee-tumor-patient-view';
// A model for clinical evaluation, so that every hook answers the warning card (the full path).
const model: ModelIdentity = { name: 'knee-tumor', version: 'bench', manifestSha256: '0'.repeat(64), trainingData: 'clinical', intendedUse: 'clinical-evaluation' };
const uid = '1.2.826.0.1.3680043.8.498.1';

function computedResult(): AnalysisResult {
  const instance = (n: number) => ({ studyInstanceUid: uid, seriesInstanceUid: `${uid}.${n}`, sopInstanceUid: `${uid}.${n}.1` });
  const box = { x: 200, y: 180, width: 60, height: 48, confidence: 0.93, foldsAgreeing: 4, foldCount: 5 };
  return {
    kind: 'knee-tumor-analysis', schemaVersion: 1, studyInstanceUid: uid, model, operatingThreshold: 0.5,
    views: [
      { view: 'AP', instance: instance(1), imageSize: { width: 512, height: 512 }, boxes: [], score: 0, positive: false },
      { view: 'LATERAL', instance: instance(2), imageSize: { width: 512, height: 512 }, boxes: [box], score: 0.93, positive: true },
    ],
    patient: { score: 0.93, positive: true }, flags: [], aiGenerated: true, notice: AI_NOTICE, analysedAt: new Date().toISOString(),
  };
}

const CLIENT_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, tokens, body, clients, requests, thinkMs } = workerData;
const latencies = [];
let failures = 0;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function client(count, record) {
  for (let i = 0; i < count; i++) {
    if (thinkMs > 0) await sleep(-Math.log(1 - Math.random()) * thinkMs);
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { Authorization: 'Bearer ' + tokens.pop(), 'Content-Type': 'application/json' }, body });
    const answer = await response.json();
    if (response.status !== 200 || answer.cards?.[0]?.indicator !== 'warning') failures += 1;
    if (record) latencies.push(performance.now() - started);
  }
}
(async () => {
  await Promise.all(Array.from({ length: clients }, () => client(2, false)));
  const wall = performance.now();
  await Promise.all(Array.from({ length: clients }, () => client(requests, true)));
  parentPort.postMessage({ latencies, failures, seconds: (performance.now() - wall) / 1000 });
})();
`;

// Sends unauthenticated oversized bodies back to back until SIGTERM, then prints what it got.
const FLOOD_LOOP = `
const { url, senders, bytes } = JSON.parse(process.env.FLOOD);
const body = Buffer.concat([Buffer.from('{"hook":"patient-view","padding":"'), Buffer.alloc(bytes, 0x61), Buffer.from('"}')]);
const answers = {};
let sent = 0;
let stop = false;
process.on('SIGTERM', () => { stop = true; });
async function sender() {
  while (!stop) {
    let answer;
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      await response.arrayBuffer();
      answer = String(response.status);
    } catch (error) {
      answer = 'connection closed';
    }
    answers[answer] = (answers[answer] ?? 0) + 1;
    sent += 1;
  }
}
Promise.all(Array.from({ length: senders }, sender)).then(() => process.stdout.write(JSON.stringify({ sent, answers })));
`;

interface Flood {
  stop(): Promise<{ sent: number; answers: Record<string, number>; seconds: number }>;
}

/**
 * The flood comes from another process at the lowest CPU priority: an attacker is another machine,
 * and on a small host its sending must not be what slows the service down.
 */
function startFlood(url: string): Flood {
  const flood = JSON.stringify({ url, senders: FLOOD_SENDERS, bytes: FLOOD_BODY_BYTES });
  const child = spawn('nice', ['-n', String(FLOOD_NICE), process.execPath, '-e', FLOOD_LOOP], { env: { ...process.env, FLOOD: flood }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const started = performance.now();
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', () => resolve({ ...(JSON.parse(output) as { sent: number; answers: Record<string, number> }), seconds: (performance.now() - started) / 1000 }));
        child.kill('SIGTERM');
      }),
  };
}

interface BenchAnalysis {
  /** Analyses the studies one after another until `stop`, which resolves once the one in progress ends. */
  runUntilStopped(): { stop(): Promise<{ analysed: number; medianMs: number }> };
  release(): Promise<void>;
}

/**
 * A real Orthanc holding two phantom knee studies and the shipped ensemble that analyses them, in
 * the analysis worker thread or on this event loop; one analysis is run first (the first run's set-up).
 */
async function prepareAnalysis(inMain: boolean): Promise<BenchAnalysis> {
  const orthanc = await startOrthanc();
  const analysisConfig = parseConfig({ pacs: { dicomWebUrl: orthanc.dicomWebUrl }, model: { allowDemonstrationModel: true } });
  const pacs = analysisConfig.pacs as PacsConfig;
  const phantoms = [generatePatient(FRESH_PHANTOM_SEED, 0), generatePatient(FRESH_PHANTOM_SEED, 1)];
  await new DicomWebClient(pacs).storeInstances(phantoms.flatMap((p) => [p.ap, p.lateral]));
  const uids = phantoms.map((p) => p.reference.studyInstanceUid as string);
  const { analyse, release } = inMain
    ? await loadPacsAnalysis(pacs, analysisConfig.model, analysisConfig.analysis, () => undefined).then((a) => ({ analyse: a.analyse, release: () => a.detector.release() }))
    : await startAnalysisPool(pacs, analysisConfig.model, analysisConfig.analysis, () => undefined);
  await analyse(uids[0] as string);
  return {
    runUntilStopped() {
      let stopping = false;
      const times: number[] = [];
      const loop = (async () => {
        for (let i = 0; !stopping; i++) {
          const t0 = performance.now();
          await analyse(uids[i % uids.length] as string);
          times.push(performance.now() - t0);
        }
      })();
      return {
        async stop() {
          stopping = true;
          await loop;
          return { analysed: times.length, medianMs: median(times) };
        },
      };
    },
    async release() {
      await release();
      await orthanc.stop();
    },
  };
}

interface ClientRun {
  latencies: number[];
  failures: number;
  seconds: number;
}

function runClients(work: { url: string; tokens: string[]; body: string; clients: number; requests: number; thinkMs: number }): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT_LOOP, { eval: true, workerData: work });
    worker.once('message', (run: ClientRun) => {
      void worker.terminate();
      resolve(run);
    });
    worker.once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES384', kty: 'EC' };
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const config = parseConfig({
    fhir: { baseUrl: 'http://127.0.0.1:9/fhir' },
    service: { baseUrl: BASE, appLaunchUrl: 'https://viewer.example.org/launch', modelCardUrl: 'https://knee-tumor.example.org/model-card' },
    cdsClients: [{ issuer: ISSUER, jwks: { keys: [jwk] } }],
    jobs: { databasePath: path.join(folder, 'jobs.sqlite') },
    operations: { auditLogPath: path.join(folder, 'audit.jsonl') },
  });
  const service = createService(config, () => Promise.reject(new Error('no inference in this benchmark')), model, silentLog);
  const report = toFhirTransaction(computedResult(), { patient: 'Patient/p1', imagingStudy: 'ImagingStudy/s1' }).entry?.find((e) => e.resource?.resourceType === 'DiagnosticReport')?.resource as DiagnosticReport;
  const study: ImagingStudy = { resourceType: 'ImagingStudy', id: 's1', status: 'available', subject: { reference: 'Patient/p1' }, identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uid}` }] };
  const body = (hookInstance: string) =>
    JSON.stringify({
      hook: 'patient-view', hookInstance, context: { patientId: 'p1', userId: 'Practitioner/1' },
      prefetch: {
        kneeStudies: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: study }] },
        analysisReports: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { ...report, id: 'r1' } }] },
      },
    });
  const server = service.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cds-services/${SERVICE_ID}`;
  const now = Math.floor(Date.now() / 1000);
  const sign = () => new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'bench', typ: 'JWT' }).setIssuer(ISSUER).setAudience(`${BASE}/cds-services/${SERVICE_ID}`).setIssuedAt(now).setExpirationTime(now + 300).setJti(randomUUID()).sign(privateKey);

  process.stdout.write(
    `patient-view, result already computed, ${CLIENTS} concurrent clients x ${REQUESTS_PER_CLIENT} requests, ${os.cpus().length} CPUs\n` +
      `${'think time'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'req/s'.padStart(7)} failures loop busy ${'longest stall'.padStart(13)}\n`,
  );
  const sweep = async (thinkMs: number, label = `${thinkMs} ms`) => {
    const tokens = await Promise.all(Array.from({ length: CLIENTS * (REQUESTS_PER_CLIENT + 2) }, sign));
    // How busy the service's own event loop is (the clients and the flood run in worker threads).
    const loopBefore = performance.eventLoopUtilization();
    // and the longest the loop was held up at once (a hook arriving then waits at least that long).
    const stalls = monitorEventLoopDelay({ resolution: 10 });
    stalls.enable();
    // The clients run in a worker thread, so that their HTTP and JSON work does not queue behind
    // the service's on the same event loop (an EHR is another machine).
    const { latencies, failures, seconds } = await runClients({ url, tokens, body: body(randomUUID()), clients: CLIENTS, requests: REQUESTS_PER_CLIENT, thinkMs });
    stalls.disable();
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `${label.padStart(10)} ${percentile(latencies, 50).toFixed(1).padStart(8)} ${percentile(latencies, 99).toFixed(1).padStart(8)} ` +
        `${(latencies.at(-1) ?? NaN).toFixed(1).padStart(8)} ${(latencies.length / seconds).toFixed(0).padStart(7)} ${String(failures).padStart(8)} ` +
        `${(performance.eventLoopUtilization(loopBefore).utilization * 100).toFixed(0).padStart(8)}% ${`${(stalls.max / 1e6).toFixed(0)} ms`.padStart(13)}\n`,
    );
  };
  if (OVERSIZED_FLOOD) {
    await sweep(FLOOD_THINK_MS, 'no flood');
    const flood = startFlood(url);
    await sweep(FLOOD_THINK_MS, 'flood');
    const { sent, answers, seconds } = await flood.stop();
    const megabytes = (sent * FLOOD_BODY_BYTES) / 1024 / 1024;
    process.stdout.write(
      `flood: ${FLOOD_SENDERS} senders at nice ${FLOOD_NICE}, ${sent} unauthenticated ${(FLOOD_BODY_BYTES / 1024 / 1024).toFixed(1)} MB bodies (${megabytes.toFixed(0)} MB) in ${seconds.toFixed(1)} s, answers ${JSON.stringify(answers)}; think time ${FLOOD_THINK_MS} ms\n`,
    );
  } else if (CONCURRENT_ANALYSIS) {
    const analysis = await prepareAnalysis(ANALYSIS_IN_MAIN);
    await sweep(ANALYSIS_THINK_MS, 'idle');
    const busy = analysis.runUntilStopped();
    await sweep(ANALYSIS_THINK_MS, 'analysing');
    const { analysed, medianMs } = await busy.stop();
    await analysis.release();
    process.stdout.write(
      `analysis ${ANALYSIS_IN_MAIN ? 'on the event loop (as before the worker thread)' : 'in the analysis worker thread'}: ${analysed} phantom studies ` +
        `analysed during the "analysing" row, median ${medianMs.toFixed(0)} ms each; think time ${ANALYSIS_THINK_MS} ms\n`,
    );
  } else {
    for (const thinkMs of THINK_TIMES_MS) await sweep(thinkMs);
  }
  server.closeAllConnections();
  server.close();
  await service.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
