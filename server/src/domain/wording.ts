/**
 * What a clinician reads about a result, in one place: the report's conclusion and narrative, the
 * CDS cards and the viewer's banner all word a finding with these functions (pure, no Node APIs, so
 * that the viewer bundles them too).
 */
import type { Laterality, ViewName } from './analysis';

export const VIEW_WORDS: Record<ViewName, string> = { AP: 'AP', LATERAL: 'lateral' };

const KNEE_WORDS: Record<Laterality, string> = { L: 'left knee', R: 'right knee', B: 'both knees' };

/** "left knee", "right knee", "both knees", or "knee" when the images do not say. */
export function kneeWords(laterality: Laterality | undefined): string {
  return laterality ? KNEE_WORDS[laterality] : 'knee';
}

/** What the numbers are, said wherever a confidence is shown. */
export const CONFIDENCE_MEANING =
  'The confidence is the AI\'s score, not a probability of cancer; the threshold is the score from which it calls a study positive, chosen when the model was validated to balance missed tumors against false alarms.';

export const NEXT_STEP_POSITIVE = 'Review the images; if a lesion is confirmed, refer along the local bone-tumor pathway.';
export const NEXT_STEP_NEGATIVE = 'A negative AI result does not rule out a tumor: read the images as usual and act on the clinical picture.';
export const NEXT_STEP_DEMONSTRATION = 'Read the images as usual; do not act on this result.';

/** The strongest box of a result, which the conclusion, the card and the banner speak about. */
export interface TopLesion {
  view: ViewName;
  confidence: number;
  foldsAgreeing: number;
  foldCount: number;
}

export interface FindingFacts {
  positive: boolean;
  laterality?: Laterality;
  operatingThreshold: number;
  /** The patient score: the highest confidence over both views. */
  score: number;
  top?: TopLesion;
}

/** What the confidence says against the threshold, as a clause ("the AI's confidence 0.93 on the lateral view is ..."). */
export function evidenceClause(facts: FindingFacts): string {
  const threshold = facts.operatingThreshold.toFixed(2);
  const { top } = facts;
  if (facts.positive && top) {
    return (
      `the AI's confidence ${top.confidence.toFixed(2)} on the ${VIEW_WORDS[top.view]} view is at or above the operating threshold ${threshold} ` +
      `(${top.foldsAgreeing} of ${top.foldCount} models agree)`
    );
  }
  return `the highest confidence over both views, ${facts.score.toFixed(2)}, is below the operating threshold ${threshold}`;
}

/** One sentence: the finding, on which knee, and the evidence. */
export function findingSentence(facts: FindingFacts): string {
  const knee = kneeWords(facts.laterality);
  return facts.positive && facts.top
    ? `Possible bone tumor on the ${knee}: ${evidenceClause(facts)}.`
    : `No bone tumor detected by the AI on the ${knee} radiographs: ${evidenceClause(facts)}.`;
}

export function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
