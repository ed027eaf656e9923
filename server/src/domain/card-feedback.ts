/**
 * What a clinician said about a result card (accepted, or overridden with a coded reason), and the
 * card's stable uuid by which the EHR's feedback and the viewer's name the same card.
 */
import { createHash } from 'node:crypto';

export const OVERRIDE_REASONS = [
  { system: 'https://knee-tumor.example.org/fhir/CodeSystem/override-reason', code: 'disagree', display: 'Disagree with the AI finding' },
  { system: 'https://knee-tumor.example.org/fhir/CodeSystem/override-reason', code: 'already-known', display: 'Lesion already known' },
  { system: 'https://knee-tumor.example.org/fhir/CodeSystem/override-reason', code: 'image-quality', display: 'Image quality too poor' },
];

/** One clinician's answer to one card; only the coded reason, never free text (it may name the patient). */
export interface CardFeedback {
  card: string;
  outcome: 'accepted' | 'overridden';
  overrideReason?: string;
  outcomeTimestamp: string;
}

/** Same study, same state: same uuid, so feedback can be matched to what was shown. */
export function cardUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The uuid of a report's result card; the viewer's feedback names the card by it. */
export function resultCardUuid(report: string): string {
  return cardUuid('result', report);
}
