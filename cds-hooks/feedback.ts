/** The CDS Hooks feedback request (CDS Hooks 2.0 "Feedback"), as the EHR sends it. */
import { z } from 'zod';
import type { CardFeedback } from '../server/src/domain/card-feedback';

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

/** What is kept of a feedback request: the clinician's free-text comment may name the patient, so only the coded reason. */
export function cardFeedbackOf(request: FeedbackRequest): CardFeedback[] {
  return request.feedback.map((f) => ({
    card: f.card,
    outcome: f.outcome,
    ...(f.overrideReason?.reason?.code ? { overrideReason: f.overrideReason.reason.code } : {}),
    outcomeTimestamp: f.outcomeTimestamp,
  }));
}
