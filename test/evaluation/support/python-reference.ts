/**
 * Runs the independent Python reference (scipy / scikit-learn / statsmodels, from Debian's
 * python3-scipy, python3-sklearn and python3-statsmodels) on a batch of tasks. Debian's
 * interpreter is preferred because a pyenv or venv python3 earlier on PATH usually lacks those
 * packages; KNEE_TUMOR_PYTHON overrides both.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', 'reference', 'statistics_reference.py');

function pythonExecutable(): string {
  if (process.env.KNEE_TUMOR_PYTHON) return process.env.KNEE_TUMOR_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export type ReferenceTask = { kind: string } & Record<string, unknown>;

export function pythonReference<T = Record<string, number>>(tasks: readonly ReferenceTask[]): T[] {
  const result = spawnSync(pythonExecutable(), [SCRIPT], {
    input: JSON.stringify(tasks),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`python reference failed (${result.status}): ${result.stderr || result.error?.message}`);
  }
  return JSON.parse(result.stdout) as T[];
}
