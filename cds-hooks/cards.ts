/**
 * Card builders (pure): what a clinician sees for one study. A finding is a warning, no tumor is
 * info, a running analysis is info, and a study we could not analyse says why. Every card links
 * to the SMART viewer with the study (and report) in appContext.
 */
import { createHash } from 'node:crypto';
import { AI_NOTICE } from '../server/src/domain/analysis';
import type { Card, Link } from './types';

export const SUMMARY_MAX = 139;

export interface CardSettings {
  appLaunchUrl: string;
  modelCardUrl: string;
}

export interface StudyRef {
  studyInstanceUid: string;
  /** "ImagingStudy/<id>" when the EHR has one. */
  imagingStudy?: string;
  started?: string;
}

export interface ReportSummary {
  /** "DiagnosticReport/<id>". */
  report: string;
  positive: boolean;
  conclusion: string;
  /** "name version" of the model. */
  model: string;
}

export const OVERRIDE_REASONS = [
  { system: 'https://knee-tumor.example.org/fhir/CodeSystem/override-reason', code: 'disagree', display: 'Disagree with the AI finding' },
  { system: 'https://knee-tumor.example.org/fhir/CodeSystem/override-reason', code: 'already-known', display: 'Lesion already known' },
  { system: 'https://knee-tumor.example.org/fhir/CodeSystem/override-reason', code: 'image-quality', display: 'Image quality too poor' },
];

/** Same study, same state: same uuid, so feedback can be matched to what was shown. */
function cardUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\n')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function shorten(text: string): string {
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}

function studyDate(study: StudyRef): string {
  return study.started ? ` of ${study.started.slice(0, 10)}` : '';
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
  return { label: model ? `Knee bone tumor AI (${model})` : 'Knee bone tumor AI', url: settings.modelCardUrl };
}

/** The uuid of a report's result card; the viewer's feedback names the card by it. */
export function resultCardUuid(report: string): string {
  return cardUuid('result', report);
}

export function resultCard(settings: CardSettings, study: StudyRef, result: ReportSummary): Card {
  const detail = [
    `**${result.conclusion}**`,
    `Knee radiographs${studyDate(study)}, preliminary AI report (${result.model}).`,
    `_${AI_NOTICE}_`,
  ].join('\n\n');
  return {
    uuid: resultCardUuid(result.report),
    summary: shorten(result.conclusion),
    detail,
    indicator: result.positive ? 'warning' : 'info',
    source: source(settings, result.model),
    links: [viewerLink(settings, study, result.report)],
    ...(result.positive ? { overrideReasons: OVERRIDE_REASONS } : {}),
  };
}

export function inProgressCard(settings: CardSettings, study: StudyRef): Card {
  return {
    uuid: cardUuid('in-progress', study.studyInstanceUid),
    summary: 'Knee radiograph AI analysis in progress',
    detail: `The knee radiographs${studyDate(study)} are being analysed for bone tumors. The result appears here when it is ready.`,
    indicator: 'info',
    source: source(settings),
    links: [viewerLink(settings, study)],
  };
}

export function couldNotAnalyseCard(settings: CardSettings, study: StudyRef, reason: string): Card {
  return {
    uuid: cardUuid('could-not-analyse', study.studyInstanceUid, reason),
    summary: shorten(`Could not analyse the knee radiographs: ${reason}`),
    detail: `The AI second reader could not analyse the knee radiographs${studyDate(study)}: ${reason}. No AI result is available; read the images as usual.`,
    indicator: 'info',
    source: source(settings),
    links: [viewerLink(settings, study)],
  };
}
