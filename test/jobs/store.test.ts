import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDatabase } from '../../server/src/jobs/database';
import { createJobStore } from '../../server/src/jobs/store';
import { KneeTumorError } from '../../server/src/errors';

function freshStore(file = path.join(mkdtempSync(path.join(os.tmpdir(), 'jobs-')), 'jobs.sqlite')) {
  return { store: createJobStore(openDatabase(file), 'knee-tumor@1.0.0'), file };
}

describe('job store (SQLite)', () => {
  it('keeps one job per study and model, whatever the number of triggers', async () => {
    const { store } = freshStore();
    const results = await Promise.all(['orthanc', 'http', 'fhir-subscription'].map(async (source) => store.enqueue('1.2.3', source as 'http')));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
  });

  it('keeps one job when two connections to the same file enqueue it', () => {
    const { store, file } = freshStore();
    const other = createJobStore(openDatabase(file), 'knee-tumor@1.0.0');
    expect([store.enqueue('1.2.4', 'http').created, other.enqueue('1.2.4', 'orthanc').created]).toEqual([true, false]);
    expect(createJobStore(openDatabase(file), 'knee-tumor@2.0.0').enqueue('1.2.4', 'http').created).toBe(true);
  });

  it('claims due jobs once, respects backoff, and records done and failed', () => {
    const { store } = freshStore();
    const { job } = store.enqueue('1.2.5', 'http', 1000);
    expect(store.claimNext(1000)?.id).toBe(job.id);
    expect(store.claimNext(1000)).toBeUndefined();
    store.retryLater(job.id, new KneeTumorError('pacs-unreachable', 'down'), 5000, 1000);
    expect(store.forStudy('1.2.5')).toMatchObject({ state: 'queued', attempts: 1, errorCode: 'pacs-unreachable', notBefore: 5000 });
    expect(store.claimNext(4999)).toBeUndefined();
    expect(store.claimNext(5000)?.attempts).toBe(2);
    store.complete(job.id, 'DiagnosticReport/9');
    expect(store.forStudy('1.2.5')).toMatchObject({ state: 'done', report: 'DiagnosticReport/9', errorCode: undefined });
    expect(store.enqueue('1.2.5', 'orthanc').created).toBe(false);
    expect(store.forStudy('1.2.5')?.state).toBe('done');
  });

  it('queues a failed job again on a new trigger, and running jobs again after a restart', () => {
    const { store, file } = freshStore();
    const failed = store.enqueue('1.2.6', 'http').job;
    store.claimNext();
    store.fail(failed.id, new KneeTumorError('view-missing', 'lateral view missing'));
    expect(store.forStudy('1.2.6')).toMatchObject({ state: 'failed', errorCode: 'view-missing', errorReason: 'lateral view missing' });
    expect(store.enqueue('1.2.6', 'orthanc').job).toMatchObject({ state: 'queued', attempts: 0 });
    store.claimNext();
    const restarted = createJobStore(openDatabase(file), 'knee-tumor@1.0.0');
    expect(restarted.recoverInterrupted(3)).toEqual({ requeued: 1, failed: 0 });
    expect(restarted.forStudies(['1.2.6', '9.9']).get('1.2.6')?.state).toBe('queued');
  });
});
