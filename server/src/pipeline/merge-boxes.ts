/**
 * Merging the boxes of all folds and TTA passes of one view into lesion boxes: non-maximum
 * suppression across everything (the method), or weighted box fusion as an option; then, for
 * each lesion box, how many folds had a box on it.
 */
import type { LesionBox, PixelBox } from '../domain/analysis';

/** A box from one fold and one TTA pass, in original image pixels. */
export interface CandidateBox extends PixelBox {
  confidence: number;
  fold: number;
}

export function iou(a: PixelBox, b: PixelBox): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const intersection = ix * iy;
  const union = a.width * a.height + b.width * b.height - intersection;
  return union > 0 ? intersection / union : 0;
}

function byConfidence(a: CandidateBox, b: CandidateBox): number {
  return b.confidence - a.confidence;
}

/** Greedy NMS: keep the most confident box, drop those overlapping it above the threshold. */
export function nonMaximumSuppression(candidates: CandidateBox[], iouThreshold: number, maxDetections: number): CandidateBox[] {
  const kept: CandidateBox[] = [];
  for (const candidate of [...candidates].sort(byConfidence)) {
    if (kept.length >= maxDetections) break;
    if (kept.every((k) => iou(k, candidate) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}

/**
 * Weighted box fusion (Solovyev et al., 2021): clusters of boxes overlapping a cluster's fused box
 * above the threshold are averaged, weighted by confidence; the fused confidence is the mean
 * confidence scaled by the share of prediction sets (fold x pass) that voted for it.
 */
export function weightedBoxFusion(candidates: CandidateBox[], iouThreshold: number, maxDetections: number, predictionSets: number): CandidateBox[] {
  const clusters: { fused: CandidateBox; members: CandidateBox[] }[] = [];
  for (const candidate of [...candidates].sort(byConfidence)) {
    const cluster = clusters.find((c) => iou(c.fused, candidate) > iouThreshold);
    if (!cluster) {
      clusters.push({ fused: { ...candidate }, members: [candidate] });
      continue;
    }
    cluster.members.push(candidate);
    const weight = cluster.members.reduce((sum, m) => sum + m.confidence, 0);
    const average = (pick: (b: CandidateBox) => number) => cluster.members.reduce((sum, m) => sum + pick(m) * m.confidence, 0) / weight;
    const x1 = average((b) => b.x);
    const y1 = average((b) => b.y);
    cluster.fused = {
      x: x1,
      y: y1,
      width: average((b) => b.x + b.width) - x1,
      height: average((b) => b.y + b.height) - y1,
      confidence: weight / cluster.members.length,
      fold: cluster.fused.fold,
    };
  }
  return clusters
    .map(({ fused, members }) => ({ ...fused, confidence: (fused.confidence * Math.min(members.length, predictionSets)) / predictionSets }))
    .sort(byConfidence)
    .slice(0, maxDetections);
}

/**
 * At most this many candidates, the most confident, enter the merge (YOLOv5's max_nms): an
 * untrained or confused model can emit a box per anchor, and the merge is quadratic.
 */
export const MAX_MERGE_CANDIDATES = 30000;

export interface MergeOptions {
  method: 'nms' | 'wbf';
  iouThreshold: number;
  maxDetections: number;
  foldCount: number;
  /** Prediction sets per view: folds x TTA passes (WBF's vote denominator). */
  predictionSets: number;
}

/** All candidates of one view → its lesion boxes, most confident first, with fold agreement. */
export function mergeCandidates(all: CandidateBox[], options: MergeOptions): LesionBox[] {
  const candidates = all.length > MAX_MERGE_CANDIDATES ? [...all].sort(byConfidence).slice(0, MAX_MERGE_CANDIDATES) : all;
  const merged =
    options.method === 'wbf'
      ? weightedBoxFusion(candidates, options.iouThreshold, options.maxDetections, options.predictionSets)
      : nonMaximumSuppression(candidates, options.iouThreshold, options.maxDetections);
  return merged.map((box) => {
    const folds = new Set(candidates.filter((c) => iou(c, box) >= options.iouThreshold).map((c) => c.fold));
    return {
      x: box.x,
      y: box.y,
      width: box.width,
      height: box.height,
      confidence: box.confidence,
      foldsAgreeing: folds.size,
      foldCount: options.foldCount,
    };
  });
}
