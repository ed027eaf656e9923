/**
 * A real-shaped AnalysisResult for tests of everything downstream of the detector: one lesion box
 * on the lateral view of a left knee, or none.
 */
import { AI_NOTICE, type AnalysisResult, type ModelIdentity } from '../../server/src/domain/analysis';

export const FIXTURE_STUDY_UID = '1.2.826.0.1.3680043.8.498.10000000000000000000000000000000001';

/** A model trained on synthetic images, like the shipped one: its results must never alert. */
export const DEMONSTRATION_MODEL: ModelIdentity = { name: 'knee-tumor', version: '1.0.0', manifestSha256: 'b'.repeat(64), trainingData: 'synthetic', intendedUse: 'demonstration' };

export function sampleAnalysis(options: { studyInstanceUid?: string; positive?: boolean; model?: ModelIdentity } = {}): AnalysisResult {
  const studyInstanceUid = options.studyInstanceUid ?? FIXTURE_STUDY_UID;
  const positive = options.positive ?? true;
  const box = { x: 212.5, y: 301, width: 88, height: 64.25, confidence: 0.93, foldsAgreeing: 4, foldCount: 5 };
  return {
    kind: 'knee-tumor-analysis',
    schemaVersion: 1,
    studyInstanceUid,
    model: options.model ?? { name: 'knee-tumor', version: '1.0.0', manifestSha256: 'a'.repeat(64), trainingData: 'clinical', intendedUse: 'clinical-evaluation' },
    operatingThreshold: 0.5,
    views: [
      {
        view: 'AP',
        instance: { studyInstanceUid, seriesInstanceUid: `${studyInstanceUid}.1`, sopInstanceUid: `${studyInstanceUid}.1.1` },
        laterality: 'L',
        imageSize: { width: 512, height: 512 },
        boxes: [],
        score: 0,
        positive: false,
      },
      {
        view: 'LATERAL',
        instance: { studyInstanceUid, seriesInstanceUid: `${studyInstanceUid}.2`, sopInstanceUid: `${studyInstanceUid}.2.1` },
        laterality: 'L',
        imageSize: { width: 512, height: 512 },
        boxes: positive ? [box] : [],
        score: positive ? box.confidence : 0,
        positive,
      },
    ],
    patient: { score: positive ? box.confidence : 0.12, positive },
    flags: [],
    aiGenerated: true,
    notice: AI_NOTICE,
    analysedAt: '2026-11-26T10:00:00.000Z',
  };
}
