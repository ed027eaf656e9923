/**
 * Validation of the evaluation's inputs and their binding to the reference set. Every problem is a
 * KneeTumorError('bad-request') naming the file and the place in it (array positions, never the
 * ids, which can be patient identifiers), so a user can find and fix the record.
 */
import type { z } from 'zod';
import type { PixelBox } from '../../domain/analysis';
import type { ReferenceSet } from '../../domain/reference';
import { KneeTumorError } from '../../errors';
import type { PatientCase } from '../cases';
import type { ScoredBox } from '../matching';
import type { ReaderCases } from '../readers';
import {
  analysisResultSchema,
  boxPredictionsSchema,
  readerSchema,
  referenceSetSchema,
  type AnalysisResultInput,
} from './schemas';

/** A document read from a file, with where it came from ("pred.json", "pred.jsonl line 3"). */
export interface SourcedDocument {
  value: unknown;
  where: string;
}

/** Boxes given for one radiograph, and where in the inputs they were given. */
export interface ImageBoxes {
  imageId: string;
  boxes: ScoredBox[];
  where: string;
  /** The image size the predictions were made on, when the format says it. */
  imageSize?: { width: number; height: number };
  /** Radiographs from one analysis result share it: both must belong to the same patient. */
  study?: string;
}

export interface ModelPredictions {
  images: ImageBoxes[];
  /** The operating thresholds the inputs carry (analysis results always carry one). */
  operatingThresholds: number[];
}

export interface ReaderBoxes {
  name?: string;
  images: ImageBoxes[];
}

// Box edges are pixel boundaries and the ensemble rescales boxes to the original image, so an edge
// may land a fraction of a pixel outside; more than half a pixel is a box on the wrong image.
export const EDGE_TOLERANCE_PX = 0.5;

function invalid(reason: string): KneeTumorError {
  return new KneeTumorError('bad-request', reason);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function parseWith<T extends z.ZodType>(schema: T, document: SourcedDocument): z.infer<T> {
  const result = schema.safeParse(document.value);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((issue) => `${formatPath(issue.path) || '(document)'}: ${issue.message}`);
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  throw invalid(`${document.where}: ${problems.join('; ')}${more}`);
}

export function boxOutside(box: PixelBox, width: number, height: number): boolean {
  return (
    box.x < -EDGE_TOLERANCE_PX ||
    box.y < -EDGE_TOLERANCE_PX ||
    box.x + box.width > width + EDGE_TOLERANCE_PX ||
    box.y + box.height > height + EDGE_TOLERANCE_PX
  );
}

export function parseReferenceSet(document: SourcedDocument): ReferenceSet {
  const truth: ReferenceSet = parseWith(referenceSetSchema, document);
  const where = document.where;
  const patientIndex = new Map<string, number>();
  const imageIndex = new Map<string, string>();
  truth.patients.forEach((patient, p) => {
    const at = `${where}: patients[${p}]`;
    const earlier = patientIndex.get(patient.patientId);
    if (earlier !== undefined) throw invalid(`${at}.patientId repeats the patientId of patients[${earlier}]`);
    patientIndex.set(patient.patientId, p);
    const views = patient.images.map((image) => image.view);
    if (views.length !== 2 || !views.includes('AP') || !views.includes('LATERAL')) {
      const found = views.length === 0 ? 'no view' : `${views.length === 1 ? 'one view' : `${views.length} views`} (${views.join(', ')})`;
      throw invalid(`${at} has ${found}; the method needs exactly one AP and one LATERAL radiograph per patient`);
    }
    patient.images.forEach((image, i) => {
      const imageAt = `patients[${p}].images[${i}]`;
      const earlierImage = imageIndex.get(image.imageId);
      if (earlierImage !== undefined) throw invalid(`${where}: ${imageAt}.imageId repeats the imageId of ${earlierImage}`);
      imageIndex.set(image.imageId, imageAt);
      image.boxes.forEach((box, b) => {
        if (boxOutside(box, image.width, image.height)) {
          throw invalid(`${where}: ${imageAt}.boxes[${b}] lies outside the ${image.width} x ${image.height} image`);
        }
      });
    });
    const lesions = patient.images.reduce((total, image) => total + image.boxes.length, 0);
    if (patient.tumor && lesions === 0) throw invalid(`${at} is a tumor patient without any reference lesion box`);
    if (!patient.tumor && lesions > 0) throw invalid(`${at} is a normal patient but has reference lesion boxes`);
  });
  return truth;
}

function isAnalysisResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'knee-tumor-analysis';
}

function analysisImages(result: AnalysisResultInput, where: string): ImageBoxes[] {
  return result.views.map((view, v) => ({
    imageId: view.instance.sopInstanceUid,
    boxes: view.boxes,
    where: `${where}: views[${v}]`,
    imageSize: view.imageSize,
    study: where,
  }));
}

/**
 * `--pred` accepts one analysis result, an array of them, JSON Lines of them (one document per
 * line), or the box predictions format; the shape of the first document tells which.
 */
export function parsePredictions(documents: readonly SourcedDocument[]): ModelPredictions {
  const [first] = documents;
  if (first === undefined) throw invalid('the predictions file is empty');
  if (documents.length === 1 && !Array.isArray(first.value) && !isAnalysisResult(first.value)) {
    const predictions = parseWith(boxPredictionsSchema, first);
    return {
      images: predictions.images.map((image, i) => ({ imageId: image.imageId, boxes: image.boxes, where: `${first.where}: images[${i}]` })),
      operatingThresholds: predictions.operatingThreshold === undefined ? [] : [predictions.operatingThreshold],
    };
  }
  const results: SourcedDocument[] = documents.flatMap((document) =>
    Array.isArray(document.value)
      ? document.value.map((value, i) => ({ value, where: `${document.where}[${i}]` }))
      : [document],
  );
  const parsed = results.map((document) => ({ result: parseWith(analysisResultSchema, document), where: document.where }));
  return {
    images: parsed.flatMap(({ result, where }) => analysisImages(result, where)),
    operatingThresholds: [...new Set(parsed.map(({ result }) => result.operatingThreshold))],
  };
}

export function parseReading(document: SourcedDocument): ReaderBoxes {
  const reading = parseWith(readerSchema, document);
  return {
    ...(reading.reader === undefined ? {} : { name: reading.reader }),
    images: reading.images.map((image, i) => ({
      imageId: image.imageId,
      // A reader's boxes have no confidence: all equal, so any threshold below 1 keeps them.
      boxes: image.boxes.map((box) => ({ ...box, confidence: 1 })),
      where: `${document.where}: images[${i}]`,
    })),
  };
}

/**
 * Puts each radiograph's boxes beside its reference lesions. Refuses boxes on an image the truth
 * does not have, an image given twice, an image left out (a silent omission would count as a
 * negative), boxes outside the image, and an analysis result whose views span two patients.
 */
export function bindToTruth(truth: ReferenceSet, images: readonly ImageBoxes[], label: string): PatientCase[] {
  const byImage = new Map<string, ImageBoxes>();
  const locate = new Map<string, { patient: number; width: number; height: number }>();
  truth.patients.forEach((patient, p) =>
    patient.images.forEach((image) => locate.set(image.imageId, { patient: p, width: image.width, height: image.height })),
  );
  const patientOfStudy = new Map<string, number>();
  for (const image of images) {
    const reference = locate.get(image.imageId);
    if (reference === undefined) throw invalid(`${image.where}: ${label} for a radiograph that is not in the reference set (--truth)`);
    const earlier = byImage.get(image.imageId);
    if (earlier !== undefined) throw invalid(`${image.where}: a second ${label} for the radiograph of ${earlier.where}`);
    byImage.set(image.imageId, image);
    if (image.imageSize !== undefined && (image.imageSize.width !== reference.width || image.imageSize.height !== reference.height)) {
      throw invalid(
        `${image.where}: image size ${image.imageSize.width} x ${image.imageSize.height} differs from the reference's ${reference.width} x ${reference.height}`,
      );
    }
    image.boxes.forEach((box, b) => {
      if (boxOutside(box, reference.width, reference.height)) {
        throw invalid(`${image.where}.boxes[${b}] lies outside the ${reference.width} x ${reference.height} image`);
      }
    });
    if (image.study !== undefined) {
      const studyPatient = patientOfStudy.get(image.study);
      if (studyPatient !== undefined && studyPatient !== reference.patient) {
        throw invalid(`${image.study}: its views are radiographs of two different reference patients`);
      }
      patientOfStudy.set(image.study, reference.patient);
    }
  }
  const missing: string[] = [];
  const patients = truth.patients.map((patient, p) => ({
    patientId: patient.patientId,
    tumor: patient.tumor,
    attributes: patient.attributes ?? {},
    radiographs: patient.images.map((image, i) => {
      const given = byImage.get(image.imageId);
      if (given === undefined) missing.push(`patients[${p}].images[${i}]`);
      return { imageId: image.imageId, view: image.view, lesions: image.boxes, boxes: given?.boxes ?? [] };
    }),
  }));
  if (missing.length > 0) {
    throw invalid(
      `${missing.length} reference radiograph(s) have no ${label} (first: ${missing[0]} of --truth); give every radiograph an entry, with empty boxes when there is none`,
    );
  }
  return patients;
}

export function bindReader(truth: ReferenceSet, reading: ReaderBoxes, fallbackName: string): ReaderCases {
  return { name: reading.name ?? fallbackName, patients: bindToTruth(truth, reading.images, `reading of ${reading.name ?? fallbackName}`) };
}
