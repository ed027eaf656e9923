/**
 * The demo started as `npm run demo` starts it (the built dist/server/src/demo/main.js, its own
 * Orthanc and FHIR engine) on a free port, with the given model; resolves once it says it is ready.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const MAIN = path.resolve(__dirname, '../../dist/server/src/demo/main.js');

export interface RunningDemo {
  /** e.g. http://127.0.0.1:40123; the chart is under /ehr, the FHIR server under /fhir. */
  base: string;
  /** What it printed until it was ready (its start-up message last). */
  output: string;
  /** Everything it printed so far. */
  printed(): string;
  /** Its exit code once it has exited, else null. */
  exitCode(): number | null;
  stop(): Promise<void>;
}

/** The ids of the Orthanc processes whose environment holds KNEE_TUMOR_TEST_MARKER=`marker` (a demo's, started with it). */
export function orthancsWith(marker: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!command.startsWith('/usr/sbin/Orthanc')) return [];
      return readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`KNEE_TUMOR_TEST_MARKER=${marker}`) ? [Number(entry)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}

/** `config`: a KNEE_TUMOR_CONFIG file for the demo; `marker`: put in its environment, which its Orthanc inherits (see orthancsWith). */
export async function startDemo(options: { model: string; jobsDb: string; config?: string; marker?: string; readyWithinMs?: number }): Promise<RunningDemo> {
  const demo = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      KNEE_TUMOR_DEMO_PORT: '0',
      KNEE_TUMOR_JOBS_DB: options.jobsDb,
      KNEE_TUMOR_MODEL: options.model,
      ...(options.config ? { KNEE_TUMOR_CONFIG: options.config } : {}),
      ...(options.marker ? { KNEE_TUMOR_TEST_MARKER: options.marker } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    if (demo.exitCode !== null) return;
    const exited = new Promise((r) => demo.once('exit', r));
    demo.kill('SIGTERM');
    await exited;
  };
  let output = '';
  try {
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not get ready:\n${output}`)), options.readyWithinMs ?? 150000);
      const read = (d: Buffer) => {
        output += d.toString();
        // Ready once the whole start-up message is in: its last line names Orthanc.
        const url = /Demo EHR ready: open (http:\/\/\S+)\/ehr[\s\S]*Orthanc \(PACS\):[^\n]*\n/.exec(output)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      };
      demo.stdout?.on('data', read);
      demo.stderr?.on('data', read);
      demo.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the demo exited with ${code}:\n${output}`));
      });
    });
    return { base, output, printed: () => output, exitCode: () => demo.exitCode, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
