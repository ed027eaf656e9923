/**
 * A seeded phantom test set in the evaluation's input formats: a reference set, the model's
 * analysis results (with some misses, poor localisations and false positives), and readers.
 */
import type { AnalysisResult, LesionBox, PixelBox, ViewName } from '../../../server/src/domain/analysis';
import type { ReferenceSet } from '../../../server/src/domain/reference';
import { seededRandom, type RandomSource } from '../../../server/src/evaluation/statistics/random';

const WIDTH = 1200;
const HEIGHT = 1500;

export interface PhantomSet {
  truth: ReferenceSet;
  analyses: AnalysisResult[];
  readers: { reader: string; images: { imageId: string; boxes: PixelBox[] }[] }[];
}

function lesionBox(random: RandomSource): PixelBox {
  const width = 120 + random() * 200;
  const height = 120 + random() * 200;
  return { x: 100 + random() * (WIDTH - 700), y: 100 + random() * (HEIGHT - 700), width, height };
}

function shifted(box: PixelBox, fraction: number): PixelBox {
  return { ...box, x: box.x + box.width * fraction, y: box.y + box.height * fraction };
}

function detection(box: PixelBox, confidence: number): LesionBox {
  return { ...box, confidence, foldsAgreeing: 5, foldCount: 5 };
}

export function phantomSet(seed: number, patients: number, threshold = 0.4): PhantomSet {
  const random = seededRandom(seed);
  const truth: ReferenceSet = { kind: 'knee-tumor-reference', schemaVersion: 1, patients: [] };
  const analyses: AnalysisResult[] = [];
  const readers: PhantomSet['readers'] = [
    { reader: 'Junior A', images: [] },
    { reader: 'Junior B', images: [] },
  ];
  for (let p = 0; p < patients; p++) {
    const tumor = random() < 0.45;
    const study = `1.2.826.0.1.3680043.9.7777.${seed}.${p}`;
    const views: ViewName[] = ['AP', 'LATERAL'];
    const images = views.map((view, v) => ({
      imageId: `${study}.${v + 1}`,
      view,
      width: WIDTH,
      height: HEIGHT,
      boxes: tumor ? [lesionBox(random)] : [],
    }));
    truth.patients.push({
      patientId: `PHANTOM-${seed}-${p}`,
      tumor,
      attributes: {
        center: ['North', 'South', 'East'][p % 3] as string,
        ageYears: Math.round(8 + random() * 70),
        ...(tumor ? { lesionSizeMm: Math.round(20 + random() * 80) } : {}),
        manufacturer: p % 2 === 0 ? 'Acme' : 'Radix',
        model: p % 2 === 0 ? 'DR-1' : 'CR-9',
      },
      images,
    });
    const viewFindings = images.map((image) => {
      const boxes: LesionBox[] = [];
      for (const lesion of image.boxes) {
        const outcome = random();
        if (outcome < 0.8) boxes.push(detection(shifted(lesion, random() * 0.2), 0.45 + random() * 0.55));
        else if (outcome < 0.9) boxes.push(detection(shifted(lesion, 0.7), 0.2 + random() * 0.6));
      }
      if (random() < 0.15) boxes.push(detection({ x: 20, y: 20, width: 90, height: 90 }, random() * 0.8));
      const score = Math.max(0, ...boxes.map((box) => box.confidence));
      return {
        view: image.view,
        instance: { studyInstanceUid: study, seriesInstanceUid: `${study}.0`, sopInstanceUid: image.imageId },
        imageSize: { width: WIDTH, height: HEIGHT },
        boxes,
        score,
        positive: score >= threshold,
      };
    });
    const patientScore = Math.max(...viewFindings.map((view) => view.score));
    analyses.push({
      kind: 'knee-tumor-analysis',
      schemaVersion: 1,
      studyInstanceUid: study,
      model: { name: 'phantom', version: '0', manifestSha256: '0'.repeat(64), trainingData: 'synthetic', intendedUse: 'demonstration' },
      operatingThreshold: threshold,
      views: viewFindings,
      patient: { score: patientScore, positive: patientScore >= threshold },
      flags: [],
      aiGenerated: true,
      notice: 'AI-generated result (second reader).',
      analysedAt: '2026-01-01T00:00:00Z',
    });
    readers.forEach((reader, r) => {
      for (const image of images) {
        const sees = random() < (r === 0 ? 0.85 : 0.75);
        const boxes = image.boxes.length > 0 ? (sees ? [shifted(image.boxes[0] as PixelBox, 0.1)] : []) : sees ? [] : [{ x: 300, y: 300, width: 100, height: 100 }];
        reader.images.push({ imageId: image.imageId, boxes });
      }
    });
  }
  return { truth, analyses, readers };
}
