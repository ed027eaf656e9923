/**
 * Transient failures between us and the FHIR server, through a real proxy in front of the real
 * FHIR engine: an nginx-style HTML 502, a 429 with Retry-After, and a 200 cut short after the
 * server stored the report. Each is retried, the server's Retry-After is honoured, and exactly one
 * report exists at the end; a refusal of our credentials fails at once and says so.
 */
import type { DiagnosticReport, Observation } from 'fhir/r4';
import request from 'supertest';
import { sampleAnalysis } from '../support/analysis-fixture';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { startService, waitFor } from '../support/running-service';
import { testConfig, TRIGGER_TOKEN } from '../support/service-config';

let fhir: RunningFhirServer;
let proxy: FaultProxy;

beforeAll(async () => {
  fhir = await startFhirServer();
  proxy = await startFaultProxy(fhir.baseUrl);
});

afterAll(async () => {
  await proxy.stop();
  await fhir.stop();
});

const transaction = { method: 'POST', path: /^\/fhir\/?$/ };

it('retries an HTML 502, a 429 after its Retry-After, and a cut-short 200, and ends with one report', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.7001';
  const { patientId } = await registerStudy(fhir, uid);
  const config = testConfig(proxy.url, []);
  const running = await startService({ ...config, jobs: { ...config.jobs, maxAttempts: 6, initialBackoffMs: 50, maxBackoffMs: 5000 } }, () =>
    Promise.resolve(sampleAnalysis({ studyInstanceUid: uid })),
  );
  try {
    proxy.queue(transaction, { kind: 'html', status: 502 }, { kind: 'too-many-requests', retryAfterSeconds: 2 }, { kind: 'truncated-after-forwarding' });
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const done = await waitFor('the job to be done', async () => ((await running.service.jobs.forStudy(uid))?.state === 'done' ? await running.service.jobs.forStudy(uid) : undefined));
    expect(done.attempts).toBe(4);

    const writes = proxy.seen.filter((s) => s.method === 'POST' && transaction.path.test(s.path));
    expect(writes.map((w) => w.fault)).toEqual(['html', 'too-many-requests', 'truncated-after-forwarding', undefined]);
    const [, tooMany, afterTooMany] = writes;
    expect((afterTooMany?.at ?? 0) - (tooMany?.at ?? 0)).toBeGreaterThanOrEqual(2000);

    // The cut-short write had been stored: the retry's conditional creates add nothing.
    expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(1);
    const observations = await fhir.search<Observation>(`Observation?subject=Patient/${patientId}`);
    expect(new Set(observations.map((o) => o.identifier?.[0]?.value)).size).toBe(observations.length);
  } finally {
    await running.stop();
  }
});

it('fails at once with fhir-unauthorized when the FHIR server refuses our credentials', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.7002';
  await registerStudy(fhir, uid);
  const config = testConfig(proxy.url, []);
  const running = await startService(config, () => Promise.resolve(sampleAnalysis({ studyInstanceUid: uid })));
  try {
    proxy.queue({ method: 'GET', path: /^\/fhir\/ImagingStudy/ }, { kind: 'html', status: 401 });
    await request(running.url).post('/triggers/studies').set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }).expect(202);
    const failed = await waitFor('the job to fail', async () => ((await running.service.jobs.forStudy(uid))?.state === 'failed' ? await running.service.jobs.forStudy(uid) : undefined));
    expect(failed).toMatchObject({ attempts: 1, errorCode: 'fhir-unauthorized' });
    expect(failed.errorReason).toContain("refused this service's credentials (fhir.auth)");
  } finally {
    await running.stop();
  }
});
