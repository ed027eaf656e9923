/**
 * The input formats of `knee-tumor evaluate`, as zod schemas: the one source for validation and for
 * the JSON Schema files in ../schemas (checked equal by a test). Cross-record rules (one AP and one
 * LATERAL view per patient, unique ids, boxes inside the image) are checked in validate.ts.
 */
import { z } from 'zod';

const coordinate = z.number().describe('Image pixels; (x, y) is the top-left corner of the box.');
const extent = z.number().positive();

export const pixelBoxSchema = z.object({ x: coordinate, y: coordinate, width: extent, height: extent });

export const scoredBoxSchema = z.looseObject({
  x: coordinate,
  y: coordinate,
  width: extent,
  height: extent,
  confidence: z.number().min(0).max(1).describe('Detector confidence 0..1.'),
});

const imageId = z.string().min(1).describe('SOP Instance UID of the radiograph.');
const viewName = z.enum(['AP', 'LATERAL']);

export const referenceSetSchema = z
  .object({
    kind: z.literal('knee-tumor-reference'),
    schemaVersion: z.literal(1),
    description: z.string().optional(),
    patients: z
      .array(
        z.object({
          patientId: z.string().min(1),
          studyInstanceUid: z.string().optional(),
          tumor: z.boolean().describe('The reference standard (e.g. histopathology): true for a tumor patient.'),
          laterality: z.enum(['L', 'R', 'B']).optional(),
          attributes: z
            .record(z.string(), z.union([z.string(), z.number()]))
            .optional()
            .describe(
              'Subgroup attributes read by the evaluation: center, ageYears, lesionSizeMm (largest diameter, tumor patients), manufacturer, model (the imaging device).',
            ),
          images: z
            .array(
              z.object({
                imageId,
                view: viewName,
                width: z.number().int().positive(),
                height: z.number().int().positive(),
                boxes: z.array(pixelBoxSchema).describe('Reference lesion boxes; empty on a normal radiograph.'),
                file: z.string().optional(),
              }),
            )
            .describe('Exactly one AP and one LATERAL radiograph.'),
        }),
      )
      .min(1),
  })
  .describe('Reference standard (truth) of a knee radiograph test set: `--truth`.');

export const analysisResultSchema = z
  .looseObject({
    kind: z.literal('knee-tumor-analysis'),
    schemaVersion: z.literal(1),
    studyInstanceUid: z.string().min(1),
    patientId: z.string().optional(),
    operatingThreshold: z.number().min(0).max(1),
    views: z.array(
      z.looseObject({
        view: viewName,
        instance: z.looseObject({ sopInstanceUid: imageId }),
        imageSize: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
        boxes: z.array(scoredBoxSchema),
      }),
    ),
  })
  .describe('The JSON that `knee-tumor analyze --json` prints for one study (only the fields the evaluation reads are listed).');

export const boxPredictionsSchema = z
  .object({
    kind: z.literal('knee-tumor-predictions').optional(),
    operatingThreshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('The threshold used when `--threshold` is not given.'),
    images: z.array(
      z.object({
        imageId,
        boxes: z.array(scoredBoxSchema).describe('Every box the model output on this radiograph; empty when none.'),
      }),
    ),
  })
  .describe('Model predictions per radiograph, for models other than this tool: `--pred`.');

export const predictionsSchema = z
  .union([boxPredictionsSchema, analysisResultSchema, z.array(analysisResultSchema)])
  .describe(
    'Accepted by `--pred`: the box predictions format, one analysis result, an array of them, or a JSON Lines file with one analysis result per line.',
  );

export const readerSchema = z
  .object({
    kind: z.literal('knee-tumor-reader').optional(),
    reader: z.string().min(1).optional().describe('Name shown in the report; the file name when absent.'),
    images: z.array(
      z.object({
        imageId,
        boxes: z.array(pixelBoxSchema).describe('The boxes the reader drew; empty when the reader saw no lesion.'),
      }),
    ),
  })
  .describe("One reader's reading of the test set: `--readers`. A radiograph with a box is the reader's positive.");

export type BoxPredictions = z.infer<typeof boxPredictionsSchema>;
export type AnalysisResultInput = z.infer<typeof analysisResultSchema>;
export type ReaderReading = z.infer<typeof readerSchema>;

/** The JSON Schema files documenting the formats, by file name. */
export function inputJsonSchemas(): Record<string, unknown> {
  const draft = (schema: z.ZodType): unknown => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return {
    'reference-set.schema.json': draft(referenceSetSchema),
    'predictions.schema.json': draft(predictionsSchema),
    'reader.schema.json': draft(readerSchema),
  };
}
