/**
 * Reconciliation: the triggers fire once (Orthanc's stable-study callback, a FHIR Subscription
 * notification), so a study that completed while the service was down, or whose call was lost,
 * would never be analysed. At start and every intervalMs this searches the PACS (QIDO-RS, studies of the
 * radiograph modalities dated from lookbackDays before the newest study seen) and, when the Subscription
 * trigger is used, the FHIR server (ImagingStudies updated since the last one seen), and queues
 * every knee radiograph study that has no job. The knee is confirmed as the pipeline confirms it
 * (its images' attributes, else its order, else the site's setting). Search results are filtered
 * here too, so a server that ignores a filter costs time but queues nothing wrong.
 */
import type { ImagingStudy } from 'fhir/r4';
import type { ReconcileConfig } from '../config';
import { asKneeTumorError, type ErrorCode } from '../errors';
import type { DicomJson } from '../dicom/candidate';
import { dicomJsonReader } from '../dicom/candidate';
import { RADIOGRAPH_MODALITIES } from '../dicom/radiograph';
import { jsonKey } from '../dicom/tags';
import type { FhirClient } from '../fhir/client';
import type { JobStore } from '../jobs/store';
import type { WatermarkStore } from '../jobs/watermarks';
import type { Log } from '../log';
import { selectViews } from '../pipeline/locate-study';
import type { StudySource } from '../sources/study-source';
import { studyUidOf } from './study-uids';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Refusals that mean "not a knee radiograph study": no job. Any other refusal is queued, so that its job records the reason. */
const NOT_KNEE: ReadonlySet<ErrorCode> = new Set(['not-knee', 'not-radiograph']);

/** What reconciliation needs of the PACS (DicomWebClient.searchStudies). */
export interface StudySearch {
  searchStudies(params: URLSearchParams): Promise<DicomJson[]>;
}

export interface KneeCheck {
  /** The study's images on the PACS. */
  source: StudySource;
  /** The knee radiograph order the study was made for, looked up only when its images do not name the knee. */
  kneeOrder: (studyInstanceUid: string) => Promise<string | undefined>;
  acceptUnconfirmedBodyPart: boolean;
}

export interface ReconcileDeps {
  jobs: JobStore;
  watermarks: WatermarkStore;
  /** Searched when a PACS is configured. */
  pacs?: StudySearch;
  /** Searched for ImagingStudies when the FHIR Subscription trigger is used. */
  fhir?: FhirClient;
  knee: KneeCheck;
  policy: ReconcileConfig;
  wake: () => void;
  log: Log;
}

export interface ReconcileRun {
  /** Studies the searches returned that had no job (before the knee check). */
  unknown: number;
  queued: string[];
}

export interface Reconciler {
  /** One pass over the PACS and the FHIR server. */
  runOnce(now?: number): Promise<ReconcileRun>;
  /** Runs a pass now and then every intervalMs. */
  start(): void;
  /** Resolves once the pass in progress, if any, has finished. */
  stop(): Promise<void>;
}

/** 2026-11-30 → 20261130, the DICOM DA form. */
function dicomDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10).replace(/-/g, '');
}

/** True when the pipeline would analyse the study as a knee, or refuse it for a reason its job should record. */
export async function isKneeRadiographStudy(check: KneeCheck, studyInstanceUid: string): Promise<boolean> {
  const candidates = await check.source.listCandidates(studyInstanceUid);
  const admitted = (kneeOrder?: string): boolean => {
    try {
      selectViews(studyInstanceUid, candidates, { kneeOrder, acceptUnconfirmedBodyPart: check.acceptUnconfirmedBodyPart });
      return true;
    } catch (thrown) {
      return !NOT_KNEE.has(asKneeTumorError(thrown, 'internal', 'the views could not be selected').code);
    }
  };
  if (admitted()) return true;
  const order = await check.kneeOrder(studyInstanceUid);
  return order !== undefined && admitted(order);
}

export function createReconciler(deps: ReconcileDeps): Reconciler {
  const { jobs, watermarks, policy, log } = deps;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;

  /** The PACS's radiograph studies dated from `from` on (DA), with the newest date seen. */
  async function pacsCandidates(pacs: StudySearch, now: number): Promise<{ uids: string[]; newest?: string }> {
    const watermark = await watermarks.get('pacs');
    const today = dicomDate(now);
    // Dates are local to the site, `now` is UTC: a study may be dated a day ahead.
    const latest = dicomDate(now + DAY_MS);
    // A study may reach the PACS days after later ones: search from lookbackDays before the newest seen.
    const newestSeen = watermark && watermark < today ? Date.parse(`${watermark.slice(0, 4)}-${watermark.slice(4, 6)}-${watermark.slice(6, 8)}T00:00:00Z`) : now;
    const from = dicomDate(newestSeen - policy.lookbackDays * DAY_MS);
    const uids = new Set<string>();
    let newest: string | undefined;
    // The modalities the pipeline accepts, searched one by one: servers differ on matching a list.
    for (const modality of RADIOGRAPH_MODALITIES) {
      // One search, not paged: Orthanc 1.10 answers nothing past the first page when ModalitiesInStudy
      // is given, and the date window bounds the answer anyway.
      const params = new URLSearchParams({ ModalitiesInStudy: modality, StudyDate: `${from}-` });
      for (const field of ['StudyDate', 'ModalitiesInStudy'] as const) params.append('includefield', jsonKey(field));
      for (const study of await pacs.searchStudies(params)) {
        const reader = dicomJsonReader(study);
        const uid = reader.string('StudyInstanceUID');
        const date = reader.string('StudyDate');
        const modalities = (study[jsonKey('ModalitiesInStudy')]?.Value ?? []).map((m) => String(m).toUpperCase());
        // Filtered again here: some servers ignore StudyDate or ModalitiesInStudy. An undated study cannot be placed in the window.
        if (!uid || !date || date < from || date > latest) continue;
        if (modalities.length > 0 && !modalities.includes(modality)) continue;
        uids.add(uid);
        if (!newest || date > newest) newest = date;
      }
    }
    return { uids: [...uids], newest: newest && newest > today ? today : newest };
  }

  /**
   * The FHIR server's available radiograph ImagingStudies updated since the last one seen: searched
   * oldest first, a page at a time, each page from the newest update of the one before, until a
   * page moves the watermark no further.
   */
  async function fhirCandidates(fhir: FhirClient, now: number): Promise<{ uids: string[]; newest?: string }> {
    const uids = new Set<string>();
    let newest = await watermarks.get('fhir');
    for (let since = newest ?? new Date(now - policy.lookbackDays * DAY_MS).toISOString(); ; since = newest as string) {
      const studies = await fhir.search<ImagingStudy>(
        'ImagingStudy',
        `status=available&_lastUpdated=ge${encodeURIComponent(since)}&_sort=_lastUpdated&_count=${policy.pageSize}`,
      );
      for (const study of studies) {
        const updated = study.meta?.lastUpdated;
        if (study.status !== 'available' || !updated || Date.parse(updated) < Date.parse(since)) continue;
        if (!newest || Date.parse(updated) > Date.parse(newest)) newest = updated;
        const modalities = (study.modality ?? []).map((m) => m.code?.toUpperCase());
        if (modalities.length > 0 && !modalities.some((m) => m !== undefined && RADIOGRAPH_MODALITIES.has(m))) continue;
        const uid = studyUidOf(study);
        if (uid) uids.add(uid);
      }
      if (studies.length < policy.pageSize || newest === since) return { uids: [...uids], newest };
    }
  }

  /** Queues the knee studies without a job; false when a study could not be checked (the watermark then stays). */
  async function queueUnknown(uids: string[], run: ReconcileRun): Promise<boolean> {
    let checked = true;
    const known = await jobs.forStudies(uids);
    for (const uid of uids.filter((u) => !known.has(u))) {
      run.unknown += 1;
      try {
        if (!(await isKneeRadiographStudy(deps.knee, uid))) continue;
      } catch (thrown) {
        // The next pass tries again: the watermark does not move past it.
        const error = asKneeTumorError(thrown, 'internal', 'the study could not be checked');
        log('reconcile-check-failed', { study: uid, code: error.code });
        checked = false;
        continue;
      }
      const { job, created } = await jobs.enqueue(uid, 'reconcile');
      if (created) {
        run.queued.push(uid);
        log('study-triggered', { source: 'reconcile', study: uid, job: job.id, created, state: job.state });
      }
    }
    return checked;
  }

  async function runOnce(now = Date.now()): Promise<ReconcileRun> {
    const run: ReconcileRun = { unknown: 0, queued: [] };
    const sources = [
      ...(deps.pacs ? [{ name: 'pacs', search: (n: number) => pacsCandidates(deps.pacs as StudySearch, n) }] : []),
      ...(deps.fhir ? [{ name: 'fhir', search: (n: number) => fhirCandidates(deps.fhir as FhirClient, n) }] : []),
    ];
    for (const source of sources) {
      try {
        const { uids, newest } = await source.search(now);
        if ((await queueUnknown(uids, run)) && newest) await watermarks.set(source.name, newest);
      } catch (thrown) {
        const error = asKneeTumorError(thrown, 'internal', 'the reconciliation search failed');
        log('reconcile-failed', { source: source.name, code: error.code, reason: error.reason });
      }
    }
    if (run.queued.length > 0) deps.wake();
    log('reconciled', { unknown: run.unknown, queued: run.queued.length });
    return run;
  }

  function pass(): void {
    if (inFlight) return;
    inFlight = runOnce().finally(() => {
      inFlight = undefined;
    });
  }

  return {
    runOnce,
    start() {
      if (timer) return;
      pass();
      timer = setInterval(pass, policy.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
  };
}
