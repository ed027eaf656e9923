/**
 * A worker process for the crash test: the real job store and FHIR result writer, and a test double of
 * the detector only (it returns the fixture analysis after a pause, printing "analysing" so the
 * test knows when to kill it). With KILL_AFTER_WRITE=1 it kills itself right after the FHIR write,
 * before the job is marked done; with CRASH_IN_ANALYSIS=1 the analysis itself kills the process
 * (a study that takes its process down). Exits 0 once the job is done or failed.
 * Arguments: database file, FHIR base URL, StudyInstanceUID.
 */
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';
import { createJobWorker } from '../../server/src/jobs/worker';
import { createFhirClient } from '../../server/src/fhir/client';
import { createFhirResultWriter } from '../../server/src/results/fhir/write-report';
import { jsonLog } from '../../server/src/log';
import { sampleAnalysis } from '../support/analysis-fixture';

const [databaseFile, fhirUrl, studyInstanceUid] = process.argv.slice(2) as [string, string, string];
const store = createJobStore(openDatabase(databaseFile), 'knee-tumor@1.0.0');
const fhirWriter = createFhirResultWriter(createFhirClient({ baseUrl: fhirUrl, timeoutMs: 5000 }));
const worker = createJobWorker({
  store,
  analyse: async (uid) => {
    process.stdout.write('analysing\n');
    if (process.env.CRASH_IN_ANALYSIS === '1') process.kill(process.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    return sampleAnalysis({ studyInstanceUid: uid });
  },
  writers: [
    {
      name: fhirWriter.name,
      async write(result) {
        const written = await fhirWriter.write(result);
        process.stdout.write(`written ${written.created}\n`);
        if (process.env.KILL_AFTER_WRITE === '1') process.kill(process.pid, 'SIGKILL');
        return written;
      },
    },
  ],
  policy: { maxAttempts: 3, missingStudyAttempts: 2, initialBackoffMs: 100, maxBackoffMs: 100, pollIntervalMs: 50, storeRetryMs: 100 },
  log: jsonLog,
});
worker.start();
const timer = setInterval(async () => {
  const state = (await store.forStudy(studyInstanceUid))?.state;
  if (state === 'done' || state === 'failed') {
    clearInterval(timer);
    void worker.stop().then(() => process.exit(0));
  }
}, 50);
