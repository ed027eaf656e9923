/**
 * The demo stops the Orthanc it started on every way out. The built demo (dist/) runs with a
 * marker in its environment, which its Orthanc inherits: an Orthanc process still carrying the
 * marker after the demo exited is an orphan. Each case first sees its Orthanc running, so that
 * "no orphan" cannot come from an Orthanc that never started.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { orthancsWith } from '../support/demo';

const MAIN = path.resolve(__dirname, '../../dist/server/src/demo/main.js');

/** Runs the demo until it exits; `onOrthanc` is called once its Orthanc is seen running. */
async function runDemo(env: Record<string, string>, onOrthanc: (demoPid: number) => void): Promise<{ code: number | null; sawOrthanc: boolean; output: string }> {
  const marker = randomUUID();
  const demo = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, KNEE_TUMOR_DEMO_PORT: '0', KNEE_TUMOR_JOBS_DB: path.join(mkdtempSync(path.join(os.tmpdir(), 'demo-life-')), 'jobs.sqlite'), KNEE_TUMOR_TEST_MARKER: marker, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  demo.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let sawOrthanc = false;
  const watch = setInterval(() => {
    if (!sawOrthanc && orthancsWith(marker).length > 0) {
      sawOrthanc = true;
      onOrthanc(demo.pid as number);
    }
  }, 20);
  const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
  clearInterval(watch);
  // The exit hook kills synchronously; give the kernel a moment to reap.
  await new Promise((r) => setTimeout(r, 500));
  const orphans = orthancsWith(marker);
  for (const pid of orphans) process.kill(pid, 'SIGKILL');
  expect(orphans).toEqual([]);
  return { code, sawOrthanc, output };
}

it('a failed start (a model that does not exist) exits 1 and leaves no Orthanc running', async () => {
  const result = await runDemo({ KNEE_TUMOR_MODEL: '/nonexistent/manifest.json' }, () => undefined);
  expect(result.sawOrthanc).toBe(true);
  expect(result.code).toBe(1);
  expect(result.output).toContain('demo-failed');
}, 60000);

it('SIGTERM during the start stops its Orthanc', async () => {
  const result = await runDemo({}, (pid) => process.kill(pid, 'SIGTERM'));
  expect(result.sawOrthanc).toBe(true);
  expect(result.code).toBe(0);
}, 120000);
