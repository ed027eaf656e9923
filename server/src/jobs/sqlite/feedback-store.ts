/** The card feedback store (../feedback-store.ts) on the service's SQLite database. */
import type { CardFeedback } from '../../domain/card-feedback';
import type { FeedbackStore } from '../feedback-store';
import type { ServiceDatabase } from './database';
import { guarded } from './storage-error';

interface FeedbackRow {
  service_id: string;
  card: string;
  outcome: 'accepted' | 'overridden';
  override_reason: string | null;
  outcome_timestamp: string;
  model: string;
  issuer: string;
}

export function createFeedbackStore(db: ServiceDatabase, model: string): FeedbackStore {
  const insert = db.prepare(
    `INSERT INTO card_feedback (service_id, card, outcome, override_reason, outcome_timestamp, model, issuer, received_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const everything = db.prepare<[], FeedbackRow>('SELECT * FROM card_feedback ORDER BY id');
  const recordAll = db.transaction((serviceId: string, issuer: string, feedback: CardFeedback[]) => {
    for (const f of feedback) insert.run(serviceId, f.card, f.outcome, f.overrideReason ?? null, f.outcomeTimestamp, model, issuer, Date.now());
    return feedback.length;
  });
  return {
    record: guarded('store the feedback', (serviceId: string, issuer: string, feedback: CardFeedback[]) => recordAll(serviceId, issuer, feedback)),
    all: guarded('read the feedback', () =>
      everything.all().map((r) => ({
        serviceId: r.service_id,
        card: r.card,
        outcome: r.outcome,
        overrideReason: r.override_reason ?? undefined,
        outcomeTimestamp: r.outcome_timestamp,
        model: r.model,
        issuer: r.issuer,
      })),
    ),
  };
}
