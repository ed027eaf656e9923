/**
 * Readiness: whether each system the service needs answers now (PACS, FHIR server, job store,
 * model), each named in the answer with ok or failed and why, and 503 when any has failed, so
 * that a load balancer or orchestrator stops sending work to an instance that cannot do it.
 * Liveness (/health) is only that the process answers.
 */
import { isKneeTumorError } from '../errors';

/** Resolves when the dependency is usable; rejects with the reason otherwise. */
export type ReadinessCheck = () => Promise<void>;

export interface DependencyState {
  status: 'ok' | 'failed';
  /** Why it failed: an error code and words free of patient data. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, DependencyState>;
}

function reasonOf(error: unknown): string {
  if (isKneeTumorError(error)) return `${error.code}: ${error.reason}`;
  return error instanceof Error ? error.message : String(error);
}

async function withinTime(check: ReadinessCheck, timeoutMs: number): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([check(), late]);
    return { status: 'ok' };
  } catch (error) {
    return { status: 'failed', reason: reasonOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once, each bounded by `timeoutMs`. */
export async function readiness(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<Readiness> {
  const states = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await withinTime(check, timeoutMs)] as const));
  return { ready: states.every(([, state]) => state.status === 'ok'), checks: Object.fromEntries(states) };
}
