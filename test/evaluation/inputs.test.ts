/** Input validation: the clear refusals the issue lists, and the JSON Schema files kept in step. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReferenceSet } from '../../server/src/domain/reference';
import { KneeTumorError } from '../../server/src/errors';
import { inputJsonSchemas } from '../../server/src/evaluation/inputs/schemas';
import { bindReader, bindToTruth, parsePredictions, parseReading, parseReferenceSet } from '../../server/src/evaluation/inputs/validate';
import { phantomSet } from './support/phantom-set';

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function refusal(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(KneeTumorError);
    expect((error as KneeTumorError).code).toBe('bad-request');
    return (error as KneeTumorError).reason;
  }
  throw new Error('expected a refusal');
}

const set = phantomSet(8, 6);
const truthDocument = (truth: unknown) => ({ value: truth, where: 'truth.json' });

describe('the reference set', () => {
  test('accepts the phantom set', () => {
    expect(parseReferenceSet(truthDocument(set.truth)).patients).toHaveLength(6);
  });

  test('refuses a patient with one view', () => {
    const truth = clone(set.truth);
    truth.patients[2]!.images.pop();
    expect(refusal(() => parseReferenceSet(truthDocument(truth)))).toBe(
      'truth.json: patients[2] has one view (AP); the method needs exactly one AP and one LATERAL radiograph per patient',
    );
  });

  test('refuses two views of the same kind', () => {
    const truth = clone(set.truth);
    truth.patients[1]!.images[1]!.view = 'AP';
    expect(refusal(() => parseReferenceSet(truthDocument(truth)))).toContain('patients[1] has 2 views (AP, AP)');
  });

  test('refuses duplicate patient and image ids, without printing them', () => {
    const patients = clone(set.truth);
    patients.patients[3]!.patientId = patients.patients[0]!.patientId;
    const reason = refusal(() => parseReferenceSet(truthDocument(patients)));
    expect(reason).toBe('truth.json: patients[3].patientId repeats the patientId of patients[0]');
    expect(reason).not.toContain('PHANTOM');

    const images = clone(set.truth);
    images.patients[4]!.images[1]!.imageId = images.patients[0]!.images[0]!.imageId;
    expect(refusal(() => parseReferenceSet(truthDocument(images)))).toBe(
      'truth.json: patients[4].images[1].imageId repeats the imageId of patients[0].images[0]',
    );
  });

  test('refuses a reference box outside the image, and lesions inconsistent with the tumor flag', () => {
    const truth = clone(set.truth);
    const tumorIndex = truth.patients.findIndex((patient) => patient.tumor);
    truth.patients[tumorIndex]!.images[0]!.boxes[0]!.x = 1190;
    expect(refusal(() => parseReferenceSet(truthDocument(truth)))).toBe(
      `truth.json: patients[${tumorIndex}].images[0].boxes[0] lies outside the 1200 x 1500 image`,
    );
    const flipped = clone(set.truth);
    flipped.patients[tumorIndex]!.tumor = false;
    expect(refusal(() => parseReferenceSet(truthDocument(flipped)))).toContain('is a normal patient but has reference lesion boxes');
  });

  test('names the field of a schema violation', () => {
    const truth = clone(set.truth) as unknown as { patients: { images: { width: unknown }[] }[] };
    truth.patients[0]!.images[1]!.width = 'wide';
    expect(refusal(() => parseReferenceSet(truthDocument(truth)))).toMatch(/^truth\.json: patients\[0\]\.images\[1\]\.width: /);
  });
});

describe('predictions and readings bound to the truth', () => {
  const truth: ReferenceSet = parseReferenceSet(truthDocument(set.truth));
  const analyses = { value: set.analyses, where: 'pred.json' };

  test('binds analysis results by SOP Instance UID and carries their operating threshold', () => {
    const predictions = parsePredictions([analyses]);
    expect(predictions.operatingThresholds).toEqual([0.4]);
    const patients = bindToTruth(truth, predictions.images, 'prediction');
    expect(patients.map((patient) => patient.radiographs.length)).toEqual([2, 2, 2, 2, 2, 2]);
  });

  test('refuses a prediction on an unknown image', () => {
    const changed = clone(set.analyses);
    changed[1]!.views[0]!.instance.sopInstanceUid = '1.2.3.4';
    const predictions = parsePredictions([{ value: changed, where: 'pred.json' }]);
    expect(refusal(() => bindToTruth(truth, predictions.images, 'prediction'))).toBe(
      'pred.json[1]: views[0]: prediction for a radiograph that is not in the reference set (--truth)',
    );
  });

  test('refuses the same image predicted twice, and an analysis result spanning two patients', () => {
    const twice = parsePredictions([{ value: [...set.analyses, set.analyses[0]], where: 'pred.json' }]);
    expect(refusal(() => bindToTruth(truth, twice.images, 'prediction'))).toBe(
      'pred.json[6]: views[0]: a second prediction for the radiograph of pred.json[0]: views[0]',
    );
    const mixed = clone(set.analyses);
    mixed[0]!.views[1] = clone(set.analyses[1]!.views[1]!);
    const spanning = parsePredictions([{ value: mixed.slice(0, 1), where: 'pred.json' }]);
    expect(refusal(() => bindToTruth(truth, spanning.images, 'prediction'))).toBe(
      'pred.json[0]: its views are radiographs of two different reference patients',
    );
  });

  test('refuses a predicted box outside the image and an image size that differs', () => {
    const outside = parsePredictions([
      { value: { images: [{ imageId: set.truth.patients[0]!.images[0]!.imageId, boxes: [{ x: -5, y: 0, width: 10, height: 10, confidence: 0.5 }] }] }, where: 'boxes.json' },
    ]);
    expect(refusal(() => bindToTruth(truth, outside.images, 'prediction'))).toBe(
      'boxes.json: images[0].boxes[0] lies outside the 1200 x 1500 image',
    );
    const resized = clone(set.analyses);
    resized[2]!.views[1]!.imageSize.width = 600;
    const sized = parsePredictions([{ value: resized, where: 'pred.json' }]);
    expect(refusal(() => bindToTruth(truth, sized.images, 'prediction'))).toBe(
      "pred.json[2]: views[1]: image size 600 x 1500 differs from the reference's 1200 x 1500",
    );
  });

  test('refuses a confidence outside 0..1 with the place of the box', () => {
    const bad = clone(set.analyses);
    bad[0]!.views[0]!.boxes.push({ x: 1, y: 1, width: 5, height: 5, confidence: 3, foldsAgreeing: 5, foldCount: 5 });
    expect(refusal(() => parsePredictions([{ value: bad, where: 'pred.json' }]))).toMatch(
      /^pred\.json\[0\]: views\[0\]\.boxes\[\d+\]\.confidence: /,
    );
  });

  test("a reader's file: named by its 'reader' field, or by the file", () => {
    const named = bindReader(truth, parseReading({ value: set.readers[0], where: 'a.json' }), 'a');
    expect(named.name).toBe('Junior A');
    const anonymous = bindReader(truth, parseReading({ value: { images: set.readers[1]!.images }, where: 'b.json' }), 'b');
    expect(anonymous.name).toBe('b');
    const partial = parseReading({ value: { images: set.readers[1]!.images.slice(1) }, where: 'b.json' });
    expect(refusal(() => bindReader(truth, partial, 'b'))).toBe(
      '1 reference radiograph(s) have no reading of b (first: patients[0].images[0] of --truth); give every radiograph an entry, with empty boxes when there is none',
    );
  });
});

test('the JSON Schema files document the formats the code validates', () => {
  for (const [name, schema] of Object.entries(inputJsonSchemas())) {
    const file = join(__dirname, '..', '..', 'server', 'src', 'evaluation', 'schemas', name);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(schema);
  }
});
