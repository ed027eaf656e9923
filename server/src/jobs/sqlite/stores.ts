/** The job, feedback and watermark stores on one SQLite file, as the service composes them. */
import type { FeedbackStore } from '../feedback-store';
import type { JobStore } from '../store';
import type { WatermarkStore } from '../watermarks';
import { openDatabase } from './database';
import { createFeedbackStore } from './feedback-store';
import { createJobStore } from './job-store';
import { createWatermarkStore } from './watermark-store';

export interface ServiceStores {
  jobs: JobStore;
  feedback: FeedbackStore;
  watermarks: WatermarkStore;
  close(): void;
}

export function openSqliteStores(file: string, model: string): ServiceStores {
  const db = openDatabase(file);
  return { jobs: createJobStore(db, model), feedback: createFeedbackStore(db, model), watermarks: createWatermarkStore(db), close: () => db.close() };
}
