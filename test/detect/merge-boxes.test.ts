import { iou, MAX_MERGE_CANDIDATES, mergeCandidates, nonMaximumSuppression, weightedBoxFusion, type CandidateBox } from '../../server/src/pipeline/merge-boxes';

const box = (x: number, y: number, size: number, confidence: number, fold: number): CandidateBox => ({ x, y, width: size, height: size, confidence, fold });

describe('merging the boxes of the folds', () => {
  it('computes IoU', () => {
    expect(iou(box(0, 0, 10, 1, 0), box(0, 0, 10, 1, 0))).toBe(1);
    expect(iou(box(0, 0, 10, 1, 0), box(5, 0, 10, 1, 0))).toBeCloseTo(50 / 150, 10);
    expect(iou(box(0, 0, 10, 1, 0), box(20, 20, 10, 1, 0))).toBe(0);
  });

  it('keeps the most confident of overlapping boxes and separate lesions apart (NMS)', () => {
    const kept = nonMaximumSuppression([box(1, 0, 10, 0.6, 1), box(0, 0, 10, 0.9, 0), box(100, 100, 10, 0.7, 2)], 0.45, 300);
    expect(kept.map((k) => k.confidence)).toEqual([0.9, 0.7]);
  });

  it('counts the folds that agree on each lesion box', () => {
    const lesion = mergeCandidates(
      [box(0, 0, 10, 0.9, 0), box(1, 1, 10, 0.8, 1), box(0, 1, 10, 0.7, 1), box(2, 0, 10, 0.5, 3), box(200, 0, 10, 0.4, 2)],
      { method: 'nms', iouThreshold: 0.45, maxDetections: 300, foldCount: 5, predictionSets: 15 },
    );
    expect(lesion.map((l) => [l.confidence, l.foldsAgreeing, l.foldCount])).toEqual([
      [0.9, 3, 5],
      [0.4, 1, 5],
    ]);
  });

  it('fuses overlapping boxes weighted by confidence (WBF) and scales by the votes', () => {
    const [fused] = weightedBoxFusion([box(0, 0, 10, 0.8, 0), box(2, 0, 10, 0.4, 1)], 0.3, 300, 2);
    // x = (0 x 0.8 + 2 x 0.4) / 1.2; confidence = mean 0.6 x 2 votes / 2 sets.
    expect(fused?.x).toBeCloseTo(0.8 / 1.2, 10);
    expect(fused?.width).toBeCloseTo(10, 10);
    expect(fused?.confidence).toBeCloseTo(0.6, 10);
  });

  it('keeps only the most confident candidates of a flood', () => {
    const flood = Array.from({ length: MAX_MERGE_CANDIDATES + 5000 }, (_, i) => box((i % 200) * 20, Math.floor(i / 200) * 20, 10, i / 1e6, 0));
    const lesions = mergeCandidates(flood, { method: 'nms', iouThreshold: 0.45, maxDetections: 10, foldCount: 5, predictionSets: 15 });
    expect(lesions).toHaveLength(10);
    expect(lesions[0]?.confidence).toBeCloseTo((flood.length - 1) / 1e6, 12);
  });
});
