/**
 * The analysis worker's limits are checked at start: `serve` with a per-job time limit of 1.5 s
 * exits 1 with config-invalid naming analysis.worker.timeoutMs and its value, cleanly, where it
 * used to end the thread while onnxruntime loaded the model and abort natively ("terminate called
 * after throwing an instance of 'Napi::Error'"). Runs the built serve entry (needs `npm run build`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runServe, type ServeRun } from '../support/serve-process';

/** Runs serve with `config` as its configuration file until it exits (a service that starts never does). */
function serve(config: Record<string, unknown>): Promise<ServeRun> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'serve-limits-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return runServe({ KNEE_TUMOR_CONFIG: file, KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL: 'true' });
}

const lastLine = (log: string) => JSON.parse(log.trim().split('\n').at(-1) ?? '{}') as { event?: string; code?: string; reason?: string };

it('refuses a per-job time limit of 1.5 s at start with config-invalid, never a native abort', async () => {
  const run = await serve({ analysis: { worker: { timeoutMs: 1500 } } });
  expect(run.log).not.toContain('terminate called');
  expect([run.code, run.signal]).toEqual([1, null]);
  const line = lastLine(run.log);
  expect(line).toMatchObject({ event: 'start-failed', code: 'config-invalid' });
  expect(line.reason).toContain('analysis.worker.timeoutMs: Too small: expected number to be >=5000');
});

it('refuses a heap limit too small to load the ensemble in, naming analysis.worker.maxHeapMb', async () => {
  const run = await serve({ analysis: { worker: { maxHeapMb: 16 } } });
  expect(run.log).not.toContain('terminate called');
  expect([run.code, run.signal]).toEqual([1, null]);
  expect(lastLine(run.log)).toMatchObject({ event: 'start-failed', code: 'config-invalid' });
  expect(lastLine(run.log).reason).toContain('analysis.worker.maxHeapMb: Too small: expected number to be >=256');
});
