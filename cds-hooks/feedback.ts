/**
 * CDS Hooks feedback: which cards clinicians accepted or overrode (and why), stored with the model
 * that made the result, for post-market monitoring of the AI.
 */
import { z } from 'zod';
import type { ServiceDatabase } from '../server/src/jobs/database';

export const FeedbackRequestSchema = z.object({
  feedback: z
    .array(
      z.object({
        card: z.string().min(1),
        outcome: z.enum(['accepted', 'overridden']),
        acceptedSuggestions: z.array(z.object({ id: z.string() })).optional(),
        overrideReason: z
          .object({
            reason: z.object({ code: z.string(), system: z.string().optional(), display: z.string().optional() }).optional(),
            userComment: z.string().optional(),
          })
          .optional(),
        outcomeTimestamp: z.iso.datetime({ offset: true }),
      }),
    )
    .min(1),
});

export type FeedbackRequest = z.infer<typeof FeedbackRequestSchema>;

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
  record(serviceId: string, issuer: string, request: FeedbackRequest): number;
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
  const recordAll = db.transaction((serviceId: string, issuer: string, request: FeedbackRequest) => {
    for (const f of request.feedback) {
      // The clinician's free-text comment may name the patient: only the coded reason is kept.
      insert.run(serviceId, f.card, f.outcome, f.overrideReason?.reason?.code ?? null, f.outcomeTimestamp, model, issuer, Date.now());
    }
    return request.feedback.length;
  });
  return {
    record: (serviceId, issuer, request) => recordAll(serviceId, issuer, request),
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
