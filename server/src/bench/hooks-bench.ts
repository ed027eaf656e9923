/**
 * Benchmark (not a test): patient-view latency when the result is already computed, with 50
 * concurrent CDS clients over real HTTP with signed ES384 JWTs (signed before the clock starts,
 * as an EHR signs its own), the clients in a worker thread. Each client is an EHR session: it
 * sends a hook, waits for the answer, then "thinks" for a random (exponential) time before the
 * next. The sweep runs from a busy hospital's pace down to no think time at all, where the
 * clients only measure saturation (with 50 requests always in flight, latency is 50 / throughput
 * whatever the service does). Prints p50/p99/max and throughput per think time.
 * Run: node -r ./test/support/ts-register.js server/src/bench/hooks-bench.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DiagnosticReport, ImagingStudy } from 'fhir/r4';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { parseConfig } from '../config';
import { AI_NOTICE, type AnalysisResult, type ModelIdentity } from '../domain/analysis';
import { silentLog } from '../log';
import { toFhirTransaction } from '../pipeline/to-fhir';
import { createService } from '../service';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const REQUESTS_PER_CLIENT = Number(process.env.BENCH_REQUESTS ?? 30);
/** Mean think time of each client between its hooks, in milliseconds. */
const THINK_TIMES_MS = [1000, 500, 250, 100, 0];
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
  const config = parseConfig({
    fhir: { baseUrl: 'http://127.0.0.1:9/fhir' },
    service: { baseUrl: BASE, appLaunchUrl: 'https://viewer.example.org/launch', modelCardUrl: 'https://knee-tumor.example.org/model-card' },
    cdsClients: [{ issuer: ISSUER, jwks: { keys: [jwk] } }],
    jobs: { databasePath: path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'jobs.sqlite') },
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
  const sign = () => new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'bench', typ: 'JWT' }).setIssuer(ISSUER).setAudience(`${BASE}/cds-services/${SERVICE_ID}`).setIssuedAt(now).setExpirationTime(now + 600).setJti(randomUUID()).sign(privateKey);

  process.stdout.write(
    `patient-view, result already computed, ${CLIENTS} concurrent clients x ${REQUESTS_PER_CLIENT} requests, ${os.cpus().length} CPUs\n` +
      `${'think time'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'req/s'.padStart(7)} failures\n`,
  );
  for (const thinkMs of THINK_TIMES_MS) {
    const tokens = await Promise.all(Array.from({ length: CLIENTS * (REQUESTS_PER_CLIENT + 2) }, sign));
    // The clients run in a worker thread, so that their HTTP and JSON work does not queue behind
    // the service's on the same event loop (an EHR is another machine).
    const { latencies, failures, seconds } = await runClients({ url, tokens, body: body(randomUUID()), clients: CLIENTS, requests: REQUESTS_PER_CLIENT, thinkMs });
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `${`${thinkMs} ms`.padStart(10)} ${percentile(latencies, 50).toFixed(1).padStart(8)} ${percentile(latencies, 99).toFixed(1).padStart(8)} ` +
        `${(latencies.at(-1) ?? NaN).toFixed(1).padStart(8)} ${(latencies.length / seconds).toFixed(0).padStart(7)} ${failures}\n`,
    );
  }
  server.closeAllConnections();
  server.close();
  await service.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
