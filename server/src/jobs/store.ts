/**
 * The durable job store (a port: the SQLite adapter is in ./sqlite/, and every adapter passes the
 * contract suite in test/jobs/store-contract.ts): one job per StudyInstanceUID and model, so every
 * trigger for the same study lands on the same row. A job is queued, running, done or failed (with
 * the reason). An attempt is counted when a job is claimed, so running jobs left by a killed
 * process are queued again at start until their attempts are spent, then failed: a study that
 * takes the process down cannot do so forever. With the job the store keeps its analysis result
 * and each result writer's outcome, so that a retry runs only the writers that have not written,
 * without analysing again. Every storage failure (disk full, I/O error) comes out as
 * job-store-unavailable, which callers survive.
 */
import type { AnalysisResult } from '../domain/analysis';
import type { ErrorCode, KneeTumorError } from '../errors';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
/** `reconcile`: found by the periodic PACS or FHIR search, its trigger having been missed. */
export type TriggerSource = 'orthanc' | 'fhir-subscription' | 'http' | 'reconcile';

export interface Job {
  id: number;
  studyInstanceUid: string;
  /** The model that analyses it ("name@version"): a new model version is a new job. */
  model: string;
  state: JobState;
  attempts: number;
  /** Epoch milliseconds before which a queued job is not started (retry backoff). */
  notBefore: number;
  errorCode?: ErrorCode;
  errorReason?: string;
  /** Where the first result writer wrote, "DiagnosticReport/<id>" (the FHIR writer), once done. */
  report?: string;
  source: TriggerSource;
  createdAt: number;
  updatedAt: number;
}

/** One result writer's outcome for a job, kept across attempts. */
export interface WriterOutcome {
  writer: string;
  state: 'written' | 'failed';
  /** Where it wrote, once written. */
  location?: string;
  errorCode?: ErrorCode;
  errorReason?: string;
  /** How many times this writer was tried for the job. */
  attempts: number;
  updatedAt: number;
}

/** One writer's try in an attempt: where it wrote, or why it failed. */
export type WriterTry = { writer: string; location: string } | { writer: string; error: KneeTumorError };

/** What an attempt produced besides the job's new state: the analysis (when it ran) and each writer's try. */
export interface AttemptRecord {
  result?: AnalysisResult;
  writes: readonly WriterTry[];
}

/** What earlier attempts left for the next: the stored analysis and each writer's outcome. */
export interface JobProgress {
  result?: AnalysisResult;
  writers: WriterOutcome[];
}

/** How many jobs are in each state, and since when the longest-waiting queued job has waited. */
export interface JobStatistics {
  byState: Record<JobState, number>;
  /** Epoch milliseconds at which the oldest queued job was queued (or re-queued for a retry). */
  oldestQueuedAt?: number;
}

export interface JobStore {
  readonly model: string;
  /**
   * Queues the study unless a job exists; a failed job is queued again (new images may fix it),
   * its stored analysis and writer outcomes dropped so that it is analysed afresh.
   */
  enqueue(studyInstanceUid: string, source: TriggerSource, now?: number): Promise<{ job: Job; created: boolean }>;
  /** Marks the oldest due queued job running (counting the attempt) and returns it. */
  claimNext(now?: number): Promise<Job | undefined>;
  /** Done, with its report; `attempt` is recorded in the same step. */
  complete(id: number, report: string | undefined, attempt?: AttemptRecord, now?: number): Promise<void>;
  retryLater(id: number, error: KneeTumorError, notBefore: number, attempt?: AttemptRecord, now?: number): Promise<void>;
  fail(id: number, error: KneeTumorError, attempt?: AttemptRecord, now?: number): Promise<void>;
  /** The analysis and writer outcomes earlier attempts recorded. */
  progress(id: number): Promise<JobProgress>;
  /**
   * The jobs a killed process left running: queued again while they have attempts left, failed
   * (analysis-crashed) once maxAttempts claims all ended with the process.
   */
  recoverInterrupted(maxAttempts: number, now?: number): Promise<{ requeued: number; failed: number }>;
  forStudy(studyInstanceUid: string): Promise<Job | undefined>;
  /** The job states of many studies at once (for a hook's patient). */
  forStudies(studyInstanceUids: readonly string[]): Promise<Map<string, Job>>;
  /** The earliest notBefore of the queued jobs, to sleep until then. */
  nextDue(): Promise<number | undefined>;
  /** For metrics and readiness; also proves the database answers. */
  statistics(): Promise<JobStatistics>;
}

/** The reason a job fails with when every attempt ended with the process. */
export const PROCESS_STOPPED_REASON = 'the analysis stopped the process';
