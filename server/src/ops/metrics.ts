/**
 * Prometheus metrics (prom-client), in a registry of this service's own so that two services in
 * one process (tests, the demo) never share counters: hooks by service and status with their
 * latency, jobs by state and the age of the oldest queued one (read from the job store when
 * scraped), the durations of analyses and FHIR writes, and Node's process metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobStatistics } from '../jobs/store';

export interface ServiceMetrics {
  readonly registry: Registry;
  /** One answered (or refused) hook call; `service` is a known service id or "unknown". */
  hookAnswered(service: string, status: number, seconds: number): void;
  /** Times `work` as an analysis (`outcome`: ok or the error's code). */
  timeAnalysis<T>(work: () => Promise<T>): Promise<T>;
  /** Times `work` as the write of a report to the FHIR server. */
  timeFhirWrite<T>(work: () => Promise<T>): Promise<T>;
}

const HOOK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const WORK_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

function outcomeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'internal';
}

export function createMetrics(jobStatistics: () => Promise<JobStatistics>, now: () => number = Date.now): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'knee_tumor_' });

  const hooks = new Counter({ name: 'knee_tumor_hook_requests_total', help: 'CDS Hooks calls by service and HTTP status', labelNames: ['service', 'status'], registers: [registry] });
  const hookLatency = new Histogram({
    name: 'knee_tumor_hook_duration_seconds',
    help: 'Time to answer a CDS Hooks call, refusals included',
    labelNames: ['service'],
    buckets: HOOK_BUCKETS,
    registers: [registry],
  });
  const analysis = new Histogram({ name: 'knee_tumor_analysis_duration_seconds', help: 'Time to analyse one study', labelNames: ['outcome'], buckets: WORK_BUCKETS, registers: [registry] });
  const fhirWrite = new Histogram({ name: 'knee_tumor_fhir_write_duration_seconds', help: 'Time to write one report to the FHIR server', labelNames: ['outcome'], buckets: WORK_BUCKETS, registers: [registry] });
  new Gauge({
    name: 'knee_tumor_jobs',
    help: 'Jobs by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      for (const [state, count] of Object.entries((await jobStatistics()).byState)) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'knee_tumor_queue_age_seconds',
    help: 'How long the oldest queued job has waited (0 when none)',
    registers: [registry],
    async collect() {
      const since = (await jobStatistics()).oldestQueuedAt;
      this.set(since === undefined ? 0 : Math.max(0, (now() - since) / 1000));
    },
  });

  const timed = async <T>(histogram: Histogram<'outcome'>, work: () => Promise<T>): Promise<T> => {
    const end = histogram.startTimer();
    try {
      const result = await work();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: outcomeOf(error) });
      throw error;
    }
  };

  return {
    registry,
    hookAnswered(service, status, seconds) {
      hooks.inc({ service, status: String(status) });
      hookLatency.observe({ service }, seconds);
    },
    timeAnalysis: (work) => timed(analysis, work),
    timeFhirWrite: (work) => timed(fhirWrite, work),
  };
}
