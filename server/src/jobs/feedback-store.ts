/**
 * Clinician feedback on cards (from the EHR's CDS Hooks feedback endpoint and the viewer), kept with
 * the model that made the result, for post-market monitoring of the AI. A port: the SQLite adapter
 * is in ./sqlite/.
 */
import type { CardFeedback } from '../domain/card-feedback';

export interface StoredFeedback {
  serviceId: string;
  card: string;
  outcome: 'accepted' | 'overridden';
  overrideReason?: string;
  outcomeTimestamp: string;
  model: string;
  issuer: string;
}

export interface FeedbackStore {
  /** Resolves with how many were stored. */
  record(serviceId: string, issuer: string, feedback: CardFeedback[]): Promise<number>;
  all(): Promise<StoredFeedback[]>;
}
