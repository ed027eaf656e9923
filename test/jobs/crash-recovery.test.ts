/**
 * A worker process is SIGKILLed in the middle of a job, twice (during the analysis, then between
 * the FHIR write and marking the job done); a restarted worker completes the job once and the FHIR
 * server holds exactly one report. A study whose analysis kills the process every time ends
 * failed after maxAttempts, since each claim counts an attempt. Real processes, real SQLite file,
 * real FHIR engine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DiagnosticReport, Observation } from 'fhir/r4';
import { openDatabase } from '../../server/src/jobs/sqlite/database';
import { PROCESS_STOPPED_REASON } from '../../server/src/jobs/store';
import { createJobStore } from '../../server/src/jobs/sqlite/job-store';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';

const child = path.join(__dirname, 'worker-child.ts');
const register = path.join(__dirname, '../support/ts-register.js');

interface Run {
  output: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(text: string): Promise<void>;
  kill(): void;
}

function runWorker(args: string[], env: Record<string, string> = {}): Run {
  const proc = spawn(process.execPath, ['-r', register, child, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = {
    output: '',
    exit: new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal }))),
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        const check = () => run.output.includes(text) && resolve();
        proc.stdout.on('data', check);
        void run.exit.then(() => (run.output.includes(text) ? resolve() : reject(new Error(`worker exited before "${text}":\n${run.output}`))));
      }),
    kill: () => proc.kill('SIGKILL'),
  };
  proc.stdout.on('data', (d: Buffer) => (run.output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (run.output += d.toString()));
  return run;
}

let fhir: RunningFhirServer;
beforeAll(async () => {
  fhir = await startFhirServer();
});
afterAll(() => fhir.stop());

it('completes a job once after the worker is killed mid-job', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.77';
  const { patientId } = await registerStudy(fhir, uid);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'crash-')), 'jobs.sqlite');
  const store = createJobStore(openDatabase(file), 'knee-tumor@1.0.0');
  await store.enqueue(uid, 'http');
  const args = [file, fhir.baseUrl, uid];

  const duringAnalysis = runWorker(args);
  await duringAnalysis.waitFor('analysing');
  duringAnalysis.kill();
  expect((await duringAnalysis.exit).signal).toBe('SIGKILL');
  expect(await store.forStudy(uid)).toMatchObject({ state: 'running', attempts: 1 });
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(0);

  const afterWrite = runWorker(args, { KILL_AFTER_WRITE: '1' });
  expect((await afterWrite.exit).signal).toBe('SIGKILL');
  expect(afterWrite.output).toContain('written true');
  expect(await store.forStudy(uid)).toMatchObject({ state: 'running', attempts: 2 });

  const last = runWorker(args);
  expect(await last.exit).toEqual({ code: 0, signal: null });
  expect(last.output).toContain('jobs-recovered');
  expect(last.output).toContain('written false');
  expect(await store.forStudy(uid)).toMatchObject({ state: 'done', attempts: 3 });
  const reports = await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
  expect(reports).toHaveLength(1);
  expect((await store.forStudy(uid))?.report).toBe(`DiagnosticReport/${reports[0]?.id}`);
  expect(await fhir.search<Observation>(`Observation?subject=Patient/${patientId}`)).toHaveLength(4);
});

it('fails a job whose analysis kills the process, after maxAttempts (3) claims, without a report', async () => {
  const uid = '1.2.826.0.1.3680043.8.498.78';
  const { patientId } = await registerStudy(fhir, uid);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'crash-')), 'jobs.sqlite');
  const store = createJobStore(openDatabase(file), 'knee-tumor@1.0.0');
  await store.enqueue(uid, 'http');
  const args = [file, fhir.baseUrl, uid];

  for (let attempt = 1; attempt <= 3; attempt++) {
    const crashing = runWorker(args, { CRASH_IN_ANALYSIS: '1' });
    expect((await crashing.exit).signal).toBe('SIGKILL');
    expect(crashing.output).toContain('analysing');
    expect(await store.forStudy(uid)).toMatchObject({ state: 'running', attempts: attempt });
  }

  const last = runWorker(args, { CRASH_IN_ANALYSIS: '1' });
  expect(await last.exit).toEqual({ code: 0, signal: null });
  expect(last.output).not.toContain('analysing');
  expect(last.output).toContain('"failed":1');
  expect(await store.forStudy(uid)).toMatchObject({ state: 'failed', attempts: 3, errorCode: 'analysis-crashed', errorReason: `${PROCESS_STOPPED_REASON} (3 attempts)` });
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(0);
});
