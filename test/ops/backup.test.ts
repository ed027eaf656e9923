/**
 * `knee-tumor backup`: SQLite's online backup of a job database that a running service holds open
 * (its last writes still in the WAL), restored by opening the copy as a job store and reading the
 * jobs back; an existing file is never overwritten and a missing database is named.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../server/src/cli/main';
import { EXIT } from '../../server/src/cli/output';
import { KneeTumorError } from '../../server/src/errors';
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';

const MODEL = 'knee-tumor@1.0.0';
let folder: string;
let stderr: jest.SpyInstance;
let stdout: jest.SpyInstance;

beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'backup-'));
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  stdout.mockRestore();
  stderr.mockRestore();
});

const written = (spy: jest.SpyInstance) => spy.mock.calls.map((c) => String(c[0])).join('');

describe('knee-tumor backup', () => {
  it('copies the database of a running service, and the copy restores with every job', async () => {
    const live = path.join(folder, 'jobs.sqlite');
    const db = openDatabase(live);
    const jobs = createJobStore(db, MODEL);
    const done = (await jobs.enqueue('1.2.3.1', 'orthanc')).job;
    await jobs.claimNext();
    await jobs.complete(done.id, 'DiagnosticReport/r1');
    const failed = (await jobs.enqueue('1.2.3.2', 'http')).job;
    await jobs.fail(failed.id, new KneeTumorError('not-knee', 'the study is a chest radiograph'));
    await jobs.enqueue('1.2.3.3', 'fhir-subscription');

    const out = path.join(folder, 'backup.sqlite');
    // The service still holds the database open, its writes not yet checkpointed.
    const code = await main(['backup', '--out', out, '--json'], { KNEE_TUMOR_JOBS_DB: live });
    expect([code, written(stderr)]).toEqual([EXIT.ok, '']);
    expect(JSON.parse(written(stdout))).toMatchObject({ database: live, out, jobs: 3 });
    db.close();

    const restored = createJobStore(openDatabase(out), MODEL);
    expect(await restored.forStudy('1.2.3.1')).toMatchObject({ state: 'done', report: 'DiagnosticReport/r1', source: 'orthanc' });
    expect(await restored.forStudy('1.2.3.2')).toMatchObject({ state: 'failed', errorCode: 'not-knee' });
    expect(await restored.forStudy('1.2.3.3')).toMatchObject({ state: 'queued', source: 'fhir-subscription' });
    expect((await restored.statistics()).byState).toEqual({ queued: 1, running: 0, done: 1, failed: 1 });
  });

  it('never writes over an existing file, and names a database that does not exist', async () => {
    const live = path.join(folder, 'jobs.sqlite');
    openDatabase(live).close();
    const existing = path.join(folder, 'old-backup.sqlite');
    writeFileSync(existing, 'the only good backup');
    expect(await main(['backup', '--out', existing, '--database', live], {})).toBe(EXIT.setup);
    expect(written(stderr)).toMatch(/output-unwritable: .*old-backup.sqlite exists already/);

    expect(await main(['backup', '--out', path.join(folder, 'b.sqlite'), '--database', path.join(folder, 'missing.sqlite')], {})).toBe(EXIT.setup);
    expect(written(stderr)).toMatch(/config-invalid: there is no job database at .*missing.sqlite/);
    expect(await main(['backup'], {})).toBe(EXIT.usage);
  });
});
