/**
 * Clinician feedback on cards (from the EHR's CDS Hooks feedback endpoint and the viewer), kept with
 * the model that made the result, for post-market monitoring of the AI. The job store owns the table.
 */
import type { CardFeedback } from '../domain/card-feedback';
import type { ServiceDatabase } from './database';

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
  record(serviceId: string, issuer: string, feedback: CardFeedback[]): number;
  all(): StoredFeedback[];
}

export function createFeedbackStore(db: ServiceDatabase, model: string): FeedbackStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS card_feedback (
      id INTEGER PRIMARY KEY,
      service_id TEXT NOT NULL,
      card TEXT NOT NULL,
      outcome TEXT NOT NULL,
      override_reason TEXT,
      outcome_timestamp TEXT NOT NULL,
      model TEXT NOT NULL,
      issuer TEXT NOT NULL,
      received_at INTEGER NOT NULL
    )
  `);
  const insert = db.prepare(
    `INSERT INTO card_feedback (service_id, card, outcome, override_reason, outcome_timestamp, model, issuer, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const recordAll = db.transaction((serviceId: string, issuer: string, feedback: CardFeedback[]) => {
    for (const f of feedback) insert.run(serviceId, f.card, f.outcome, f.overrideReason ?? null, f.outcomeTimestamp, model, issuer, Date.now());
    return feedback.length;
  });
  return {
    record: (serviceId, issuer, feedback) => recordAll(serviceId, issuer, feedback),
    all: () =>
      db
        .prepare<[], { service_id: string; card: string; outcome: 'accepted' | 'overridden'; override_reason: string | null; outcome_timestamp: string; model: string; issuer: string }>(
          'SELECT * FROM card_feedback ORDER BY id',
        )
        .all()
        .map((r) => ({
          serviceId: r.service_id,
          card: r.card,
          outcome: r.outcome,
          overrideReason: r.override_reason ?? undefined,
          outcomeTimestamp: r.outcome_timestamp,
          model: r.model,
          issuer: r.issuer,
        })),
  };
}
