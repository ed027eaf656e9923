/**
 * Card builders (pure): what a clinician sees for one study. A finding on the patient's current
 * study (the newest, and recent) by a model for clinical evaluation is a warning; everything else is
 * info: no tumor, no result because the radiographs are outside the model's validated domain (a view
 * there never alerts), a finding on an earlier or old study (still shown, but not as today's alert), any result of a
 * demonstration model (which says it was trained on synthetic images), a running analysis, and a
 * study we could not analyse (with the reason), and a study the PACS does not have. Every card but the last links to the SMART viewer with the
 * study (and report) in appContext.
 */
import { AI_NOTICE, DEMONSTRATION_MODEL_NOTICE } from '../server/src/domain/analysis';
import { OVERRIDE_REASONS, cardUuid, resultCardUuid } from '../server/src/domain/card-feedback';
import {
  CONFIDENCE_MEANING,
  NEXT_STEP_ABSTAINED,
  NEXT_STEP_DEMONSTRATION,
  NEXT_STEP_NEGATIVE,
  NEXT_STEP_POSITIVE,
  OUTSIDE_DOMAIN_MEANING,
  VIEW_WORDS,
  capitalised,
  evidenceClause,
  kneeWords,
  outsideDomainClause,
} from '../server/src/domain/wording';
import { CARD_TOPIC } from '../fhir-profiles/codes';
import { findingFacts, type ReportReading } from '../fhir-profiles/read-report';
import type { Card, Link } from './types';

export const SUMMARY_MAX = 139;

export interface CardSettings {
  appLaunchUrl: string;
  modelCardUrl: string;
  /** A study taken longer ago than this is not today's news: its finding informs, never alerts. */
  currentStudyDays: number;
}

export interface StudyRef {
  studyInstanceUid: string;
  /** "ImagingStudy/<id>" when the EHR has one. */
  imagingStudy?: string;
  started?: string;
}

/**
 * Where a study stands in the patient's timeline: `current` (the newest we report on, taken within
 * currentStudyDays), `superseded` (a newer study exists) or `dated` (the newest, but older than that).
 */
export type StudyRecency = 'current' | 'superseded' | 'dated';

/** A study's report as its card shows it. */
export interface StudyResult {
  reading: ReportReading;
  recency: StudyRecency;
}

function shorten(text: string): string {
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}

function studyDate(started: string | undefined): string {
  return started ? ` of ${started.slice(0, 10)}` : '';
}

function viewerLink(settings: CardSettings, study: StudyRef, report?: string): Link {
  return {
    label: 'Open the radiographs with the AI boxes',
    url: settings.appLaunchUrl,
    type: 'smart',
    appContext: JSON.stringify({ studyInstanceUid: study.studyInstanceUid, imagingStudy: study.imagingStudy, diagnosticReport: report }),
  };
}

function source(settings: CardSettings, model?: string): Card['source'] {
  return { label: model ? `Knee bone tumor AI (${model})` : 'Knee bone tumor AI', url: settings.modelCardUrl, topic: CARD_TOPIC };
}

/** "Possible bone tumor, left knee (lateral view), radiographs of 2026-11-25", said of the study as a whole. */
function resultSummary(study: StudyRef, { reading, recency }: StudyResult): string {
  const facts = findingFacts(reading);
  const knee = kneeWords(reading.laterality);
  const earlier = recency === 'current' ? '' : 'earlier ';
  const date = studyDate(reading.studyDate ?? study.started);
  const finding = reading.positive
    ? `Possible bone tumor, ${knee}${facts?.top ? ` (${VIEW_WORDS[facts.top.view]} view)` : ''}, ${earlier}radiographs${date}`
    : reading.abstained
      ? `No AI result for the ${earlier}${knee} radiographs${date}: unlike the images the AI was validated on`
      : `No bone tumor detected by the AI on the ${earlier}${knee} radiographs${date}`;
  return reading.intendedUse === 'demonstration' ? `Demonstration model (synthetic training images): ${finding.charAt(0).toLowerCase()}${finding.slice(1)}` : finding;
}

/** What the summary does not say: which kind of model, whether newer radiographs exist, the evidence, the next step. */
function recencyNote(recency: StudyRecency, settings: CardSettings): string | undefined {
  if (recency === 'superseded') return 'The patient has more recent knee radiographs: this is an earlier study, see the newer study first.';
  if (recency === 'dated') {
    return `These radiographs are more than ${settings.currentStudyDays} days old: the finding is shown for information, not as a new alert.`;
  }
  return undefined;
}

function nextStep(reading: ReportReading): string {
  if (reading.intendedUse === 'demonstration') return NEXT_STEP_DEMONSTRATION;
  if (reading.abstained) return NEXT_STEP_ABSTAINED;
  return reading.positive ? NEXT_STEP_POSITIVE : NEXT_STEP_NEGATIVE;
}

function resultDetail(settings: CardSettings, { reading, recency }: StudyResult): string {
  const facts = findingFacts(reading);
  const outside = reading.outsideDomain;
  // Without the Observations the report's conclusion stands in, and it begins with the demonstration notice itself.
  return [
    reading.intendedUse === 'demonstration' && facts ? `**${DEMONSTRATION_MODEL_NOTICE}**` : undefined,
    reading.intendedUse === undefined ? 'The report does not record which kind of model made it, so its finding is shown for information only.' : undefined,
    recencyNote(recency, settings),
    outside.length > 0 ? `**${capitalised(outsideDomainClause(outside))}: no finding from ${outside.length > 1 ? 'them' : 'it'}.** ${OUTSIDE_DOMAIN_MEANING}` : undefined,
    facts && !reading.abstained ? `${capitalised(evidenceClause(facts))}. ${CONFIDENCE_MEANING}` : facts ? undefined : reading.conclusion,
    `**Next step:** ${nextStep(reading)}`,
    `_${AI_NOTICE}_`,
  ]
    .filter((paragraph): paragraph is string => paragraph !== undefined)
    .join('\n\n');
}

export function resultCard(settings: CardSettings, study: StudyRef, result: StudyResult): Card {
  const { reading, recency } = result;
  // Only a model meant for clinical evaluation may raise an alert, only for the current study, and
  // never for a study with a view outside the model's validated domain.
  const alert = reading.positive && reading.outsideDomain.length === 0 && recency === 'current' && reading.intendedUse === 'clinical-evaluation';
  return {
    uuid: resultCardUuid(reading.report),
    summary: shorten(resultSummary(study, result)),
    detail: resultDetail(settings, result),
    indicator: alert ? 'warning' : 'info',
    source: source(settings, reading.intendedUse === 'demonstration' ? `${reading.model}, demonstration model` : reading.model),
    links: [viewerLink(settings, study, reading.report)],
    // A positive is worth the clinician's feedback whatever the indicator: it is stored with the model version.
    ...(reading.positive ? { overrideReasons: OVERRIDE_REASONS } : {}),
  };
}

export function inProgressCard(settings: CardSettings, study: StudyRef): Card {
  return {
    uuid: cardUuid('in-progress', study.studyInstanceUid),
    summary: 'Knee radiograph AI analysis in progress',
    detail: `The knee radiographs${studyDate(study.started)} are being analysed for bone tumors. The result appears here when it is ready.`,
    indicator: 'info',
    source: source(settings),
    links: [viewerLink(settings, study)],
  };
}

/**
 * A study the PACS still did not have after the worker's missingStudyAttempts: no images to show,
 * so no viewer link; what helps is sending the images to the PACS (the job runs again on its next trigger).
 */
export function studyNotOnPacsCard(settings: CardSettings, study: StudyRef, attempts: number): Card {
  return {
    uuid: cardUuid('study-not-on-pacs', study.studyInstanceUid),
    summary: shorten(`Knee radiographs${studyDate(study.started)} not found on the PACS: no AI analysis`),
    detail:
      `The AI second reader looked for these knee radiographs on the PACS ${attempts} times and the PACS does not have them ` +
      `(StudyInstanceUID ${study.studyInstanceUid}). No AI result is available. If the images exist, ask for them to be sent to the PACS; ` +
      'they are analysed when they arrive. Read the images as usual.',
    indicator: 'info',
    source: source(settings),
  };
}

export function couldNotAnalyseCard(settings: CardSettings, study: StudyRef, reason: string): Card {
  return {
    uuid: cardUuid('could-not-analyse', study.studyInstanceUid, reason),
    summary: shorten(`Could not analyse the knee radiographs: ${reason}`),
    detail: `The AI second reader could not analyse the knee radiographs${studyDate(study.started)}: ${reason}. No AI result is available; read the images as usual.`,
    indicator: 'info',
    source: source(settings),
    links: [viewerLink(settings, study)],
  };
}
