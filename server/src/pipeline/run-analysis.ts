/**
 * The one place that sequences the steps of an analysis: locate the study's two views, fetch
 * and convert their images, detect, decide. Every step's failure is a KneeTumorError that says
 * why; nothing is written here, so a failure leaves nothing half-done.
 */
import type { ImageLimits } from '../config';
import { AI_NOTICE, VIEW_NAMES, type AnalysisResult, type ViewFinding } from '../domain/analysis';
import type { Gray8Image } from '../imaging/gray8';
import type { StudySource } from '../sources/study-source';
import type { EnsembleDetector } from './detect';
import { decidePatient, decideView } from './decide';
import { fetchViewImage } from './fetch-images';
import { locateStudy, type StudyOrderContext } from './locate-study';

export interface AnalysisDeps {
  source: StudySource;
  detector: EnsembleDetector;
  /** The site's operating threshold, else the manifest's. */
  operatingThreshold?: number;
  /** The site's analysis.acceptUnconfirmedBodyPart: analyse (and flag) a study nothing confirms as a knee. */
  acceptUnconfirmedBodyPart?: boolean;
  /** The site's analysis.imageLimits (the defaults when not given). */
  imageLimits?: ImageLimits;
  now?: () => Date;
}

/** The analysis of one study; `context` is what the EHR knows of it (the order that can confirm the knee). */
export type Analyse = (studyInstanceUid: string, context?: StudyOrderContext) => Promise<AnalysisResult>;

export interface AnalysisOutput {
  result: AnalysisResult;
  /** The converted views, for annotated images; same order as result.views. */
  images: Gray8Image[];
}

export async function analyseStudy(deps: AnalysisDeps, studyInstanceUid: string, context: StudyOrderContext = {}): Promise<AnalysisOutput> {
  const located = await locateStudy(deps.source, studyInstanceUid, { ...context, acceptUnconfirmedBodyPart: deps.acceptUnconfirmedBodyPart });
  const views = VIEW_NAMES.map((name) => located.views[name]);
  const fetched = await Promise.all(views.map((v) => fetchViewImage(deps.source, v.candidate.instance, deps.imageLimits)));
  const images = fetched.map((f) => f.image);
  const detections = await deps.detector.detectViews(images);
  const threshold = deps.operatingThreshold ?? deps.detector.manifest.operatingThreshold;
  const findings: ViewFinding[] = views.map((v, i) =>
    decideView(
      {
        view: v.view,
        instance: v.candidate.instance,
        laterality: v.laterality,
        imageSize: { width: images[i]?.width ?? 0, height: images[i]?.height ?? 0 },
        boxes: detections[i]?.boxes ?? [],
        ...(detections[i]?.domain ? { domain: detections[i]?.domain } : {}),
      },
      threshold,
    ),
  );
  return {
    result: {
      kind: 'knee-tumor-analysis',
      schemaVersion: 1,
      studyInstanceUid,
      patientId: located.patientId,
      model: deps.detector.identity,
      operatingThreshold: threshold,
      views: findings,
      patient: decidePatient(findings),
      flags: located.flags,
      aiGenerated: true,
      notice: AI_NOTICE,
      analysedAt: (deps.now ?? (() => new Date()))().toISOString(),
    },
    images,
  };
}

/** The analysis alone, for callers that need no images (the CDS service's job worker). */
export async function runAnalysis(deps: AnalysisDeps, studyInstanceUid: string, context: StudyOrderContext = {}): Promise<AnalysisResult> {
  return (await analyseStudy(deps, studyInstanceUid, context)).result;
}
