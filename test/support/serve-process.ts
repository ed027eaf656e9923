/**
 * `npm run serve` as an operator starts it: the built entry (needs `npm run build`) as a child
 * process, configured by environment variables, with a PACS and FHIR server that are never
 * reached. Runs until it exits; once it logs the event `stopAt` it gets SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SERVE = path.resolve(__dirname, '../../dist/server/src/main.js');

export interface ServeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything it wrote, stdout and stderr. */
  log: string;
}

export function runServe(env: Record<string, string>, stopAt?: string): Promise<ServeRun> {
  const jobs = path.join(mkdtempSync(path.join(os.tmpdir(), 'serve-')), 'jobs.sqlite');
  const child = spawn(process.execPath, [SERVE], {
    env: {
      PATH: process.env.PATH,
      KNEE_TUMOR_DICOMWEB_URL: 'http://127.0.0.1:9/dicom-web',
      KNEE_TUMOR_FHIR_URL: 'http://127.0.0.1:9/fhir',
      KNEE_TUMOR_BASE_URL: 'https://cds.knee-tumor.example.org',
      KNEE_TUMOR_PORT: '0',
      KNEE_TUMOR_APP_LAUNCH_URL: 'https://viewer.knee-tumor.example.org/launch',
      KNEE_TUMOR_MODEL_CARD_URL: 'https://knee-tumor.example.org/model-card',
      KNEE_TUMOR_JOBS_DB: jobs,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let stopping = false;
  return new Promise((resolve, reject) => {
    const read = (d: Buffer) => {
      log += d.toString();
      if (stopAt && !stopping && log.includes(`"event":"${stopAt}"`)) stopping = child.kill('SIGTERM');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, log }));
  });
}
