/**
 * What one analysis of a knee study produces: the boxes per view in the original image's pixel
 * coordinates, the view and patient decisions, and which model made them. This is also the JSON
 * that `knee-tumor analyze --json` prints and that `knee-tumor evaluate` accepts as predictions.
 */

/** The two radiographic views the method needs. */
export type ViewName = 'AP' | 'LATERAL';
export const VIEW_NAMES: readonly ViewName[] = ['AP', 'LATERAL'];

export type Laterality = 'L' | 'R' | 'B';

/** A reference to one DICOM image (SOP instance) in a study. */
export interface InstanceRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** An axis-aligned box in image pixels: (x, y) is the top-left corner. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One detected lesion after the ensemble's merge. */
export interface LesionBox extends PixelBox {
  /** Ensemble confidence 0..1 (objectness x class probability of the kept box). */
  confidence: number;
  /** How many of the fold models had a box overlapping this one (IoU >= the NMS threshold). */
  foldsAgreeing: number;
  foldCount: number;
}

/** Something a user should know about the result that does not stop the analysis. */
export interface AnalysisFlag {
  code:
    | 'ambiguous-view-labels'
    | 'view-from-fallback-attribute'
    | 'laterality-mismatch'
    | 'multiple-candidates'
    | 'body-part-unconfirmed';
  message: string;
}

export interface ModelIdentity {
  name: string;
  version: string;
  /** sha256 of the manifest file, which itself pins every fold file by sha256. */
  manifestSha256: string;
  trainingData: 'synthetic' | 'clinical';
  intendedUse: 'demonstration' | 'clinical-evaluation';
}

/** A model that only shows how the product works: its output never raises a warning. */
export function isDemonstrationModel(model: Pick<ModelIdentity, 'intendedUse'>): boolean {
  return model.intendedUse === 'demonstration';
}

/** Said once wherever a demonstration model's result is shown (card, report, viewer, image, CLI). */
export const DEMONSTRATION_MODEL_NOTICE =
  'Demonstration model trained on synthetic images only: its findings on real radiographs are not meaningful.';

/**
 * How far a view lies from the images the model was trained and validated on: the Mahalanobis
 * distance of the ensemble's pooled features to the training images' (mean over folds).
 */
export interface DomainCheck {
  distance: number;
  /** The model's limit, chosen on held-out training-domain images. */
  threshold: number;
  /** Beyond the limit: the view is outside the model's validated domain and gets no finding. */
  outside: boolean;
}

export interface ViewFinding {
  view: ViewName;
  instance: InstanceRef;
  laterality?: Laterality;
  imageSize: { width: number; height: number };
  boxes: LesionBox[];
  /** Highest box confidence on this view, 0 when there is no box. */
  score: number;
  /** At least one box at or above the operating threshold, on a view inside the validated domain. */
  positive: boolean;
  /** Absent when the model carries no domain statistics (older models): the view was not checked. */
  domain?: DomainCheck;
}

export interface PatientFinding {
  /** Highest box confidence over both views (the method's patient score for ROC analysis). */
  score: number;
  positive: boolean;
  /**
   * True when the AI gives no result: a view is outside the model's validated domain, so neither
   * a negative nor a positive can be stated for the patient.
   */
  abstained?: boolean;
}

/** The views of a result that lie outside the model's validated domain. */
export function outsideDomainViews(views: readonly Pick<ViewFinding, 'view' | 'domain'>[]): ViewName[] {
  return views.filter((v) => v.domain?.outside).map((v) => v.view);
}

/** A file of an analysed folder that was not read, and why (no patient data). */
export interface SkippedFile {
  /** Path relative to the folder, with forward slashes. */
  file: string;
  reason: string;
}

export const AI_NOTICE =
  'AI-generated result (second reader). Not a diagnosis; a clinician must review the images.';

export interface AnalysisResult {
  kind: 'knee-tumor-analysis';
  schemaVersion: 1;
  studyInstanceUid: string;
  /** DICOM PatientID of the study, for matching with a reference set; never logged. */
  patientId?: string;
  model: ModelIdentity;
  operatingThreshold: number;
  views: ViewFinding[];
  patient: PatientFinding;
  flags: AnalysisFlag[];
  /** Folder analyses only: every file of the folder that was skipped, with why (empty when none). */
  skippedFiles?: SkippedFile[];
  aiGenerated: true;
  notice: string;
  analysedAt: string;
}
