/**
 * Boxes → decisions, as the method defines them: a view is positive when it has a box at or above
 * the operating threshold; the patient is positive when either view is; the patient score is the
 * highest box confidence over both views.
 */
import type { LesionBox, PatientFinding, ViewFinding } from '../domain/analysis';

export function viewScore(boxes: LesionBox[]): number {
  return boxes.reduce((max, b) => Math.max(max, b.confidence), 0);
}

export function decideView(finding: Omit<ViewFinding, 'score' | 'positive'>, operatingThreshold: number): ViewFinding {
  const score = viewScore(finding.boxes);
  return { ...finding, score, positive: finding.boxes.some((b) => b.confidence >= operatingThreshold) };
}

export function decidePatient(views: ViewFinding[]): PatientFinding {
  return {
    score: views.reduce((max, v) => Math.max(max, v.score), 0),
    positive: views.some((v) => v.positive),
  };
}
