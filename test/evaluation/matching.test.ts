/** Lesion matching and lesion-level counts on hand-made radiographs with known answers. */
import type { PatientCase } from '../../server/src/evaluation/cases';
import { operatingBoxes, patientScore } from '../../server/src/evaluation/cases';
import { frocCurve, lesionLevel } from '../../server/src/evaluation/lesion-level';
import { intersectionOverUnion, matchRadiograph } from '../../server/src/evaluation/matching';

const lesion = { x: 100, y: 100, width: 100, height: 100 };

test('IoU of known overlaps', () => {
  expect(intersectionOverUnion(lesion, lesion)).toBe(1);
  expect(intersectionOverUnion(lesion, { x: 150, y: 100, width: 100, height: 100 })).toBeCloseTo(1 / 3, 12);
  expect(intersectionOverUnion(lesion, { x: 200, y: 100, width: 100, height: 100 })).toBe(0);
  expect(intersectionOverUnion(lesion, { x: 120, y: 120, width: 20, height: 20 })).toBeCloseTo(0.04, 12);
});

test('IoU must exceed 0.2: exactly 0.2 does not localise', () => {
  // Overlap 100 x 40 = 4000 over union 20000: IoU exactly 0.2.
  const touching = { x: 100, y: 160, width: 100, height: 140, confidence: 0.9 };
  expect(intersectionOverUnion(touching, lesion)).toBeCloseTo(0.2, 12);
  expect(matchRadiograph([touching], [lesion]).predictionOfLesion).toEqual([undefined]);
});

test('one-to-one, the most confident box chooses first', () => {
  const lesions = [lesion, { x: 150, y: 100, width: 100, height: 100 }];
  const boxes = [
    { x: 140, y: 100, width: 100, height: 100, confidence: 0.5 },
    { x: 100, y: 100, width: 100, height: 100, confidence: 0.9 },
    { x: 102, y: 100, width: 100, height: 100, confidence: 0.7 },
  ];
  const match = matchRadiograph(boxes, lesions);
  // The 0.9 box takes lesion 0; the 0.7 box then takes lesion 1 (IoU 0.52 > 0.2); the 0.5 box is left over.
  expect(match.lesionOfPrediction).toEqual([undefined, 0, 1]);
  expect(match.predictionOfLesion).toEqual([1, 2]);
});

function patient(tumor: boolean, boxes: { confidence: number; x: number }[], lesions = tumor ? [lesion] : []): PatientCase {
  return {
    patientId: 'p',
    tumor,
    attributes: {},
    radiographs: [
      { imageId: 'ap', view: 'AP', lesions, boxes: boxes.map((b) => ({ x: b.x, y: 100, width: 100, height: 100, confidence: b.confidence })) },
      { imageId: 'lat', view: 'LATERAL', lesions: [], boxes: [] },
    ],
  };
}

test('localised, poorly localised, missed entirely, and false-positive boxes', () => {
  const patients = [
    patient(true, [{ x: 110, confidence: 0.9 }]), // localised
    patient(true, [{ x: 185, confidence: 0.8 }]), // IoU 0.08: overlapped, not localised, and a false positive
    patient(true, [{ x: 500, confidence: 0.7 }]), // missed entirely, and a false positive
    patient(true, [{ x: 100, confidence: 0.3 }]), // below the threshold: missed entirely
    patient(false, [{ x: 600, confidence: 0.95 }]), // false positive on a normal patient
  ];
  const result = lesionLevel(operatingBoxes(patients, 0.5));
  expect(result.lesions).toBe(4);
  expect(result.localised).toMatchObject({ numerator: 1, denominator: 4 });
  expect(result.poorlyLocalised).toBe(1);
  expect(result.missedEntirely).toBe(2);
  expect(result.falsePositiveBoxes.total).toBe(3);
  expect(result.falsePositiveBoxes.perRadiograph).toBeCloseTo(3 / 10, 12);
  expect(result.falsePositiveBoxes.perPatient).toBeCloseTo(3 / 5, 12);
  // Six radiographs without a lesion (five lateral views, the normal patient's AP), one box on them.
  expect(result.falsePositiveBoxes.perNormalRadiograph).toBeCloseTo(1 / 6, 12);
  expect(patients.map(patientScore)).toEqual([0.9, 0.8, 0.7, 0.3, 0.95]);

  expect(frocCurve(patients)).toEqual([
    { minimumConfidence: 0.95, lesionSensitivity: 0, falsePositivesPerRadiograph: 0.1 },
    { minimumConfidence: 0.9, lesionSensitivity: 0.25, falsePositivesPerRadiograph: 0.1 },
    { minimumConfidence: 0.8, lesionSensitivity: 0.25, falsePositivesPerRadiograph: 0.2 },
    { minimumConfidence: 0.7, lesionSensitivity: 0.25, falsePositivesPerRadiograph: 0.3 },
    { minimumConfidence: 0.3, lesionSensitivity: 0.5, falsePositivesPerRadiograph: 0.3 },
  ]);
});
