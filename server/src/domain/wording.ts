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
export const NEXT_STEP_ABSTAINED = 'Read the images as usual: the AI gives no result for these radiographs.';

/** What "outside the model's validated domain" means, said wherever a view is flagged. */
export const OUTSIDE_DOMAIN_MEANING =
  'A radiograph is outside the model\'s validated domain when it looks unlike the images the model was trained and validated on ' +
  '(another body part, another kind of image, or equipment or patients it never saw): the AI\'s scores there mean nothing, so it gives no finding for that view.';

/** "AP view", "AP and lateral views". */
export function viewsWords(views: readonly ViewName[]): string {
  const names = views.map((v) => VIEW_WORDS[v]);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} views` : `${names[0] ?? ''} view`;
}

/** "the lateral view is outside the model's validated domain", for one view or several. */
export function outsideDomainClause(views: readonly ViewName[]): string {
  return `the ${viewsWords(views)} ${views.length > 1 ? 'are' : 'is'} outside the model's validated domain (unlike the images it was validated on)`;
}

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
  /** Views outside the model's validated domain: they give no finding. */
  outsideDomain?: ViewName[];
  /** No result: no view is positive and a view is outside the validated domain. */
  abstained?: boolean;
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

/** One sentence: the finding, on which knee, and the evidence (or why there is no result). */
export function findingSentence(facts: FindingFacts): string {
  const knee = kneeWords(facts.laterality);
  const outside = facts.outsideDomain ?? [];
  if (facts.abstained) {
    return `No AI result for the ${knee} radiographs: ${outsideDomainClause(outside)}, so the AI can neither call a tumor nor rule one out.`;
  }
  const unused = outside.length > 0 ? ` ${capitalised(outsideDomainClause(outside))} and gave no finding.` : '';
  return facts.positive && facts.top
    ? `Possible bone tumor on the ${knee}: ${evidenceClause(facts)}.${unused}`
    : `No bone tumor detected by the AI on the ${knee} radiographs: ${evidenceClause(facts)}.${unused}`;
}

export function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
