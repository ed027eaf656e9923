/**
 * The semantics every job store adapter must have (the ports in server/src/jobs/store.ts,
 * feedback-store.ts and watermarks.ts): an adapter's test file calls storeContract with a factory
 * of fresh, empty storages. Times are given explicitly where the case is about them.
 */
import { KneeTumorError, isKneeTumorError } from '../../server/src/errors';
import type { FeedbackStore } from '../../server/src/jobs/feedback-store';
import { PROCESS_STOPPED_REASON, type JobStore } from '../../server/src/jobs/store';
import type { WatermarkStore } from '../../server/src/jobs/watermarks';
import { sampleAnalysis } from '../support/analysis-fixture';

export interface OpenedStores {
  jobs: JobStore;
  feedback: FeedbackStore;
  watermarks: WatermarkStore;
}

/** One empty storage; each open() is another connection to it (another process, or a restart). */
export interface StorageUnderTest {
  open(model: string): Promise<OpenedStores>;
  /** Makes the storage refuse to grow, as a full disk does. */
  fill(): Promise<void>;
  /** Closes every connection opened. */
  close(): Promise<void>;
}

const MODEL = 'knee-tumor@1.0.0';

export function storeContract(adapter: string, fresh: () => Promise<StorageUnderTest>): void {
  describe(`job store contract (${adapter})`, () => {
    let storage: StorageUnderTest;
    beforeEach(async () => {
      storage = await fresh();
    });
    afterEach(() => storage.close());

    it('keeps one job per study and model, whatever the number of triggers and connections', async () => {
      const { jobs } = await storage.open(MODEL);
      const results = await Promise.all(['orthanc', 'http', 'fhir-subscription'].map((source) => jobs.enqueue('1.2.3', source as 'http')));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      const other = (await storage.open(MODEL)).jobs;
      expect([(await jobs.enqueue('1.2.4', 'http')).created, (await other.enqueue('1.2.4', 'orthanc')).created]).toEqual([true, false]);
      expect((await (await storage.open('knee-tumor@2.0.0')).jobs.enqueue('1.2.4', 'http')).created).toBe(true);
    });

    it('counts the attempt at claim, respects backoff, and records done and failed', async () => {
      const { jobs } = await storage.open(MODEL);
      const { job } = await jobs.enqueue('1.2.5', 'http', 1000);
      expect(job).toMatchObject({ state: 'queued', attempts: 0, notBefore: 1000, source: 'http' });
      expect(await jobs.claimNext(1000)).toMatchObject({ id: job.id, state: 'running', attempts: 1 });
      expect(await jobs.claimNext(1000)).toBeUndefined();
      await jobs.retryLater(job.id, new KneeTumorError('pacs-unreachable', 'down'), 5000, undefined, 1000);
      expect(await jobs.forStudy('1.2.5')).toMatchObject({ state: 'queued', attempts: 1, errorCode: 'pacs-unreachable', errorReason: 'down', notBefore: 5000 });
      expect(await jobs.nextDue()).toBe(5000);
      expect(await jobs.claimNext(4999)).toBeUndefined();
      expect((await jobs.claimNext(5000))?.attempts).toBe(2);
      await jobs.complete(job.id, 'DiagnosticReport/9');
      expect(await jobs.forStudy('1.2.5')).toMatchObject({ state: 'done', report: 'DiagnosticReport/9', errorCode: undefined, errorReason: undefined });
      expect(await jobs.nextDue()).toBeUndefined();
      expect((await jobs.enqueue('1.2.5', 'orthanc')).created).toBe(false);
      expect((await jobs.forStudy('1.2.5'))?.state).toBe('done');
      const failing = (await jobs.enqueue('1.2.7', 'http')).job;
      await jobs.claimNext();
      await jobs.fail(failing.id, new KneeTumorError('view-missing', 'lateral view missing'));
      expect(await jobs.forStudy('1.2.7')).toMatchObject({ state: 'failed', attempts: 1, errorCode: 'view-missing', errorReason: 'lateral view missing' });
    });

    it('keeps the analysis and each writer\'s outcome with the job, and forgets them when a failed job is queued again', async () => {
      const { jobs } = await storage.open(MODEL);
      const { job } = await jobs.enqueue('1.2.8', 'http');
      await jobs.claimNext();
      const result = sampleAnalysis({ studyInstanceUid: '1.2.8' });
      expect(await jobs.progress(job.id)).toEqual({ result: undefined, writers: [] });
      const down = new KneeTumorError('pacs-unreachable', 'connection refused');
      await jobs.retryLater(job.id, down, 0, { result, writes: [{ writer: 'fhir', location: 'DiagnosticReport/1' }, { writer: 'dicom-sr', error: down }] }, 10);
      expect(await jobs.progress(job.id)).toEqual({
        result,
        writers: [
          { writer: 'dicom-sr', state: 'failed', errorCode: 'pacs-unreachable', errorReason: 'connection refused', attempts: 1, updatedAt: 10, location: undefined },
          { writer: 'fhir', state: 'written', location: 'DiagnosticReport/1', attempts: 1, updatedAt: 10, errorCode: undefined, errorReason: undefined },
        ],
      });
      await jobs.claimNext();
      await jobs.complete(job.id, 'DiagnosticReport/1', { writes: [{ writer: 'dicom-sr', location: 'SR/1' }] }, 20);
      const done = await jobs.progress(job.id);
      expect(done.result).toEqual(result);
      expect(done.writers[0]).toEqual({ writer: 'dicom-sr', state: 'written', location: 'SR/1', attempts: 2, updatedAt: 20, errorCode: undefined, errorReason: undefined });
      expect(await jobs.forStudy('1.2.8')).toMatchObject({ state: 'done', report: 'DiagnosticReport/1' });

      const again = (await jobs.enqueue('1.2.9', 'http')).job;
      await jobs.claimNext();
      await jobs.fail(again.id, new KneeTumorError('pacs-rejected', 'refused'), { result, writes: [{ writer: 'fhir', error: new KneeTumorError('fhir-rejected', 'invalid') }] });
      expect((await jobs.progress(again.id)).writers).toHaveLength(1);
      expect((await jobs.enqueue('1.2.9', 'orthanc')).job).toMatchObject({ state: 'queued', attempts: 0, source: 'orthanc', errorCode: undefined });
      expect(await jobs.progress(again.id)).toEqual({ result: undefined, writers: [] });
    });

    it('queues interrupted jobs again after a restart, and fails them once their attempts are spent', async () => {
      const { jobs } = await storage.open(MODEL);
      await jobs.enqueue('1.3.1', 'http');
      await jobs.claimNext();
      await jobs.enqueue('1.3.2', 'http');
      await jobs.claimNext();
      await jobs.retryLater((await jobs.forStudy('1.3.2'))?.id as number, new KneeTumorError('pacs-unreachable', 'down'), 0);
      await jobs.claimNext();
      const restarted = (await storage.open(MODEL)).jobs;
      expect(await restarted.recoverInterrupted(2, 50)).toEqual({ requeued: 1, failed: 1 });
      const states = await restarted.forStudies(['1.3.1', '1.3.2', '9.9']);
      expect([...states.keys()].sort()).toEqual(['1.3.1', '1.3.2']);
      expect(states.get('1.3.1')).toMatchObject({ state: 'queued', attempts: 1, notBefore: 50 });
      expect(states.get('1.3.2')).toMatchObject({ state: 'failed', attempts: 2, errorCode: 'analysis-crashed', errorReason: `${PROCESS_STOPPED_REASON} (2 attempts)` });
      expect(await restarted.forStudies([])).toEqual(new Map());
    });

    it('counts jobs by state, with the time the oldest queued one has waited since', async () => {
      const { jobs } = await storage.open(MODEL);
      expect(await jobs.statistics()).toEqual({ byState: { queued: 0, running: 0, done: 0, failed: 0 }, oldestQueuedAt: undefined });
      await jobs.enqueue('1.4.1', 'http', 100);
      await jobs.enqueue('1.4.2', 'http', 200);
      await jobs.enqueue('1.4.3', 'http', 300);
      const claimed = await jobs.claimNext(300);
      await jobs.complete(claimed?.id as number, 'DiagnosticReport/1');
      await jobs.claimNext(300);
      expect(await jobs.statistics()).toEqual({ byState: { queued: 1, running: 1, done: 1, failed: 0 }, oldestQueuedAt: 300 });
    });

    it('stores card feedback with its model and issuer, in order', async () => {
      const { feedback } = await storage.open(MODEL);
      expect(await feedback.all()).toEqual([]);
      const at = '2024-05-01T10:00:00Z';
      expect(await feedback.record('knee-tumor-cds', 'https://ehr.example', [
        { card: 'c1', outcome: 'accepted', outcomeTimestamp: at },
        { card: 'c2', outcome: 'overridden', overrideReason: 'disagree', outcomeTimestamp: at },
      ])).toBe(2);
      expect(await (await storage.open(MODEL)).feedback.all()).toEqual([
        { serviceId: 'knee-tumor-cds', card: 'c1', outcome: 'accepted', overrideReason: undefined, outcomeTimestamp: at, model: MODEL, issuer: 'https://ehr.example' },
        { serviceId: 'knee-tumor-cds', card: 'c2', outcome: 'overridden', overrideReason: 'disagree', outcomeTimestamp: at, model: MODEL, issuer: 'https://ehr.example' },
      ]);
    });

    it('keeps one watermark per source, the last one set', async () => {
      const { watermarks } = await storage.open(MODEL);
      expect(await watermarks.get('pacs')).toBeUndefined();
      await watermarks.set('pacs', '20240501');
      await watermarks.set('pacs', '20240502');
      await watermarks.set('fhir', '2024-05-02T10:00:00Z');
      const restarted = (await storage.open(MODEL)).watermarks;
      expect([await restarted.get('pacs'), await restarted.get('fhir')]).toEqual(['20240502', '2024-05-02T10:00:00Z']);
    });

    it('refuses writes on a full store as job-store-unavailable, and still answers reads', async () => {
      const { jobs } = await storage.open(MODEL);
      await jobs.enqueue('1.5.0', 'http');
      await storage.fill();
      let refused: unknown;
      for (let i = 1; i <= 5000 && !refused; i++) refused = await jobs.enqueue(`1.5.${i}`, 'http').then(() => undefined, (error: unknown) => error);
      expect(isKneeTumorError(refused) && [refused.code, refused.retryable, refused.reason]).toEqual(['job-store-unavailable', true, expect.stringMatching(/^the job database cannot store the job/)]);
      expect((await jobs.forStudy('1.5.0'))?.state).toBe('queued');
    });
  });
}
