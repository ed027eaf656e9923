import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';
import type { ResultWriter } from '../../server/src/results/result-writer';
import { backoffMs, createJobWorker } from '../../server/src/jobs/worker';
import { KneeTumorError } from '../../server/src/errors';
import { silentLog } from '../../server/src/log';
import type { AnalysisResult } from '../../server/src/domain/analysis';
import { sampleAnalysis } from '../support/analysis-fixture';

const policy = { maxAttempts: 3, missingStudyAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 4, pollIntervalMs: 10, storeRetryMs: 10 };
const store = () => createJobStore(openDatabase(path.join(mkdtempSync(path.join(os.tmpdir(), 'worker-')), 'jobs.sqlite')), 'knee-tumor@1.0.0');
const settle = () => new Promise((r) => setTimeout(r, 20));
const notReached: ResultWriter = { name: 'fhir', write: () => Promise.reject(new Error('not reached')) };

/** A writer that answers with each outcome in turn (an error is thrown), counting its calls. */
function scriptedWriter(name: string, outcomes: Array<string | KneeTumorError>): ResultWriter & { calls: number } {
  const writer = {
    name,
    calls: 0,
    async write() {
      const outcome = outcomes[Math.min(writer.calls, outcomes.length - 1)] as string | KneeTumorError;
      writer.calls += 1;
      if (outcome instanceof KneeTumorError) throw outcome;
      return { writer: name, location: outcome, created: true };
    },
  };
  return writer;
}

describe('job worker', () => {
  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs({ ...policy, initialBackoffMs: 1000, maxBackoffMs: 5000 }, n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('waits at least as long as the server asked (Retry-After), within the cap', () => {
    const slow = { ...policy, initialBackoffMs: 1000, maxBackoffMs: 5000 };
    expect([backoffMs(slow, 1, 3000), backoffMs(slow, 3, 3000), backoffMs(slow, 1, 60000)]).toEqual([3000, 4000, 5000]);
  });

  it('gives a study the PACS does not list a few attempts only, and says so when it fails', async () => {
    const jobs = store();
    const worker = createJobWorker({
      store: jobs,
      analyse: () => Promise.reject(new KneeTumorError('study-not-found', 'study 1.8 is not on the PACS')),
      writers: [notReached],
      policy,
      log: silentLog,
    });
    await jobs.enqueue('1.8', 'http');
    for (let i = 0; i < 50 && (await jobs.forStudy('1.8'))?.state !== 'failed'; i++) {
      await worker.runDue();
      await settle();
    }
    expect(await jobs.forStudy('1.8')).toMatchObject({
      state: 'failed',
      attempts: policy.missingStudyAttempts,
      errorCode: 'study-not-found',
      errorReason: `study 1.8 is not on the PACS (gave up after ${policy.missingStudyAttempts} attempts)`,
    });
  });

  it('retries a retryable failure, then completes', async () => {
    const jobs = store();
    const outcomes: Array<() => Promise<AnalysisResult>> = [
      () => Promise.reject(new KneeTumorError('pacs-unreachable', 'connection refused')),
      () => Promise.resolve(sampleAnalysis({ studyInstanceUid: '1.5' })),
    ];
    const writes: string[] = [];
    const worker = createJobWorker({
      store: jobs,
      analyse: () => (outcomes.shift() as () => Promise<AnalysisResult>)(),
      writers: [{ name: 'fhir', write: async (result) => (writes.push(result.studyInstanceUid), { writer: 'fhir', location: 'DiagnosticReport/1', created: true }) }],
      // A backoff longer than one runDue pass on a loaded machine, so that the retry waits for the next pass.
      policy: { ...policy, initialBackoffMs: 300, maxBackoffMs: 300 },
      log: silentLog,
    });
    await jobs.enqueue('1.5', 'http');
    await worker.runDue();
    expect(await jobs.forStudy('1.5')).toMatchObject({ state: 'queued', attempts: 1, errorCode: 'pacs-unreachable' });
    await new Promise((r) => setTimeout(r, 350));
    await worker.runDue();
    expect(await jobs.forStudy('1.5')).toMatchObject({ state: 'done', attempts: 2, report: 'DiagnosticReport/1' });
    expect(writes).toEqual(['1.5']);
  });

  it('fails at once on a permanent error, with its reason', async () => {
    const jobs = store();
    const worker = createJobWorker({
      store: jobs,
      analyse: () => Promise.reject(new KneeTumorError('view-missing', 'the lateral view is missing')),
      writers: [notReached],
      policy,
      log: silentLog,
    });
    await jobs.enqueue('1.6', 'orthanc');
    await worker.runDue();
    expect(await jobs.forStudy('1.6')).toMatchObject({ state: 'failed', attempts: 1, errorCode: 'view-missing', errorReason: 'the lateral view is missing' });
  });

  it('fails after maxAttempts of a retryable error, and the started loop picks up new jobs by itself', async () => {
    const jobs = store();
    const worker = createJobWorker({
      store: jobs,
      analyse: () => Promise.reject(new KneeTumorError('fhir-unreachable', 'down')),
      writers: [notReached],
      policy,
      log: silentLog,
    });
    worker.start();
    await jobs.enqueue('1.7', 'http');
    worker.wake();
    for (let i = 0; i < 500 && (await jobs.forStudy('1.7'))?.state !== 'failed'; i++) await settle();
    await worker.stop();
    expect(await jobs.forStudy('1.7')).toMatchObject({ state: 'failed', attempts: 3, errorCode: 'fhir-unreachable' });
  });

  it('retries a failing writer alone, without analysing again, and is done once every writer has written', async () => {
    const jobs = store();
    let analyses = 0;
    const fhir = scriptedWriter('fhir', ['DiagnosticReport/7']);
    const pacs = scriptedWriter('dicom-sr', [new KneeTumorError('pacs-unreachable', 'connection refused'), 'SR/1.2.3']);
    const worker = createJobWorker({
      store: jobs,
      analyse: async (uid) => ((analyses += 1), sampleAnalysis({ studyInstanceUid: uid })),
      writers: [fhir, pacs],
      policy: { ...policy, initialBackoffMs: 0, maxBackoffMs: 0 },
      log: silentLog,
    });
    const { job } = await jobs.enqueue('1.9', 'http');
    await worker.runDue();
    expect(await jobs.forStudy('1.9')).toMatchObject({ state: 'done', attempts: 2, report: 'DiagnosticReport/7' });
    expect([analyses, fhir.calls, pacs.calls]).toEqual([1, 1, 2]);
    expect((await jobs.progress(job.id)).writers).toEqual([
      expect.objectContaining({ writer: 'dicom-sr', state: 'written', location: 'SR/1.2.3', attempts: 2, errorCode: undefined }),
      expect.objectContaining({ writer: 'fhir', state: 'written', location: 'DiagnosticReport/7', attempts: 1 }),
    ]);
  });

  it('fails the job when a writer\'s error is final, keeping what the other writers wrote', async () => {
    const jobs = store();
    const fhir = scriptedWriter('fhir', ['DiagnosticReport/8']);
    const refusing = scriptedWriter('hl7v2', [new KneeTumorError('pacs-rejected', 'the receiver refused the message')]);
    const worker = createJobWorker({ store: jobs, analyse: async (uid) => sampleAnalysis({ studyInstanceUid: uid }), writers: [fhir, refusing], policy, log: silentLog });
    const { job } = await jobs.enqueue('1.10', 'http');
    await worker.runDue();
    expect(await jobs.forStudy('1.10')).toMatchObject({ state: 'failed', attempts: 1, errorCode: 'pacs-rejected', errorReason: 'the receiver refused the message' });
    const progress = await jobs.progress(job.id);
    expect(progress.result?.studyInstanceUid).toBe('1.10');
    expect(progress.writers.map((w) => [w.writer, w.state])).toEqual([
      ['fhir', 'written'],
      ['hl7v2', 'failed'],
    ]);
  });
});
