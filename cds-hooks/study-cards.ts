/**
 * Chooses the card of each recent study of the patient (pure): its AI report if one exists, else
 * the state of its job. Studies that are not knee radiographs (refused by the pipeline) and
 * studies never triggered get no card; a study the PACS does not have (after the worker's
 * missingStudyAttempts) gets a card that says so. Cards come newest study first, and only the newest study
 * with a card, taken within currentStudyDays, is current: an earlier or old study's result says so
 * and never alerts.
 */
import type { DiagnosticReport, ImagingStudy } from 'fhir/r4';
import type { ErrorCode } from '../server/src/errors';
import { SYSTEMS } from '../fhir-profiles/codes';
import type { Job } from '../server/src/jobs/store';
import { readReport, type ReportReading } from '../fhir-profiles/read-report';
import { couldNotAnalyseCard, inProgressCard, resultCard, studyNotOnPacsCard, type CardSettings, type StudyRecency, type StudyRef } from './cards';
import type { Card, PatientData } from './types';

/** Refusals that mean "not a study for this method": a card would only be noise. */
const NOT_OUR_STUDY: ReadonlySet<ErrorCode> = new Set(['not-knee', 'not-radiograph']);

function studyUid(study: ImagingStudy): string | undefined {
  const value = study.identifier?.find((i) => i.system === SYSTEMS.dicomUid)?.value;
  return value?.replace(/^urn:oid:/, '');
}

/** The analysis key is "StudyInstanceUID/model name/model version" (see analysisKey). */
function reportKey(report: DiagnosticReport): { studyInstanceUid: string } | undefined {
  const value = report.identifier?.find((i) => i.system === SYSTEMS.analysisId)?.value;
  const [uid, name, version] = value?.split('/') ?? [];
  return uid && name && version ? { studyInstanceUid: uid } : undefined;
}

/** The StudyInstanceUIDs a hook reports on, most recent first. */
export function recentStudies(data: PatientData, limit: number): StudyRef[] {
  const studies = new Map<string, StudyRef>();
  const byDate = [...data.studies].sort((a, b) => (b.started ?? '').localeCompare(a.started ?? ''));
  for (const study of byDate) {
    const uid = studyUid(study);
    if (uid && !studies.has(uid)) studies.set(uid, { studyInstanceUid: uid, imagingStudy: `ImagingStudy/${study.id}`, started: study.started });
  }
  for (const report of data.reports) {
    const key = reportKey(report);
    if (key && !studies.has(key.studyInstanceUid)) {
      studies.set(key.studyInstanceUid, { studyInstanceUid: key.studyInstanceUid, imagingStudy: report.imagingStudy?.[0]?.reference, started: report.effectiveDateTime });
    }
  }
  // A study known only from its report goes by its date too; undated studies come last.
  return [...studies.values()].sort((a, b) => (b.started ?? '').localeCompare(a.started ?? '')).slice(0, limit);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Only the first study with a card can be current, and only when it was taken recently (an undated one is given the benefit). */
function recencyOf(first: boolean, studyDate: string | undefined, settings: CardSettings, now: number): StudyRecency {
  if (!first) return 'superseded';
  const taken = studyDate ? Date.parse(studyDate) : Number.NaN;
  return !Number.isNaN(taken) && now - taken > settings.currentStudyDays * DAY_MS ? 'dated' : 'current';
}

/** `studies` newest first, as recentStudies gives them; `now` is when the hook is answered. */
export function studyCards(settings: CardSettings, data: PatientData, jobs: Map<string, Job>, studies: StudyRef[], now: number): Card[] {
  const latestReport = new Map<string, ReportReading>();
  const byIssued = [...data.reports].sort((a, b) => (a.issued ?? '').localeCompare(b.issued ?? ''));
  for (const report of byIssued) {
    const key = reportKey(report);
    if (key && report.status !== 'entered-in-error') latestReport.set(key.studyInstanceUid, readReport(report, data.observations));
  }
  const cards: Card[] = [];
  for (const study of studies) {
    const reading = latestReport.get(study.studyInstanceUid);
    const job = jobs.get(study.studyInstanceUid);
    if (reading) cards.push(resultCard(settings, study, { reading, recency: recencyOf(cards.length === 0, reading.studyDate ?? study.started, settings, now) }));
    else if (job?.state === 'queued' || job?.state === 'running') cards.push(inProgressCard(settings, study));
    else if (job?.state === 'failed' && job.errorCode === 'study-not-found') cards.push(studyNotOnPacsCard(settings, study, job.attempts));
    else if (job?.state === 'failed' && job.errorCode && !NOT_OUR_STUDY.has(job.errorCode)) {
      cards.push(couldNotAnalyseCard(settings, study, job.errorReason ?? job.errorCode));
    }
  }
  return cards;
}
