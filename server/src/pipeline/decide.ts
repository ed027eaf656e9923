/**
 * Boxes → decisions, as the method defines them: a view is positive when it has a box at or above
 * the operating threshold; the patient is positive when either view is; the patient score is the
 * highest box confidence over both views. A view outside the model's validated domain is never
 * positive (its boxes are kept, its score too, for the record), and when a view is outside the
 * patient result is an abstention, neither a negative nor a positive.
 */
import type { LesionBox, PatientFinding, ViewFinding } from '../domain/analysis';

export function viewScore(boxes: LesionBox[]): number {
  return boxes.reduce((max, b) => Math.max(max, b.confidence), 0);
}

export function decideView(finding: Omit<ViewFinding, 'score' | 'positive'>, operatingThreshold: number): ViewFinding {
  const score = viewScore(finding.boxes);
  const inDomain = !finding.domain?.outside;
  return { ...finding, score, positive: inDomain && finding.boxes.some((b) => b.confidence >= operatingThreshold) };
}

export function decidePatient(views: ViewFinding[]): PatientFinding {
  const score = views.reduce((max, v) => Math.max(max, v.score), 0);
  // The method decides on the two views together; a study with a view unlike anything the model was
  // validated on (another device, a cast, a prosthesis) is not assessed, whatever the other view shows.
  if (views.some((v) => v.domain?.outside)) return { score, positive: false, abstained: true };
  return { score, positive: views.some((v) => v.positive) };
}
