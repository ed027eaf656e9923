/**
 * The model manifest: everything the runtime needs to know about an ensemble, validated at load.
 * Fold files are pinned by sha256 so that a report can name exactly which weights produced it.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { KneeTumorError } from '../errors';
import { describeIssues } from '../validation-issues';
import type { ModelIdentity } from '../domain/analysis';
import { parseDomainStatistics, type DomainModel } from './domain';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const TtaPassSchema = z.object({
  /** Resize factor applied to the letterboxed input (YOLOv5 TTA scales 1, 0.83, 0.67). */
  scale: z.number().gt(0).max(1),
  flipLeftRight: z.boolean(),
});

export const DomainSchema = z.object({
  /** The folds' second output: [batch, channels] pooled features. */
  featuresOutput: z.string().min(1),
  /** Which feature map is pooled, e.g. "neck-p5" (for the model card and the reader). */
  layer: z.string().min(1),
  /** Relative path of the statistics file (see model/domain.ts), pinned by sha256. */
  statistics: z.string().min(1),
  statisticsSha256: sha256Hex,
  /** A view whose distance (mean over folds) exceeds this is outside the validated domain. */
  threshold: z.number().positive(),
});

export const ManifestSchema = z
  .object({
    kind: z.literal('knee-tumor-model-manifest'),
    schemaVersion: z.literal(1),
    name: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
    /** Relative path of the model card. */
    modelCard: z.string().optional(),
    notForClinicalUse: z.boolean(),
    /** What the folds were trained on: synthetic phantoms, or real patients' radiographs. */
    trainingData: z.enum(['synthetic', 'clinical']),
    /**
     * `demonstration`: shows how the product works, its findings on real radiographs mean nothing;
     * `clinical-evaluation`: trained on real radiographs, for a site's own validation.
     */
    intendedUse: z.enum(['demonstration', 'clinical-evaluation']),
    input: z.object({
      /** Side of the square letterbox, e.g. 1280. A multiple of the grid stride. */
      size: z.number().int().positive(),
      name: z.string().min(1),
      /** Letterbox padding on the 0..1 scale (the method pads with zeros). */
      letterboxPadValue: z.number().min(0).max(1),
    }),
    output: z.object({
      name: z.string().min(1),
      /** [batch, boxes, 5 + classes]: cx, cy, w, h in input pixels, objectness, class scores. */
      layout: z.literal('yolov5'),
    }),
    classNames: z.array(z.string().min(1)).min(1),
    folds: z
      .array(z.object({ fold: z.number().int().nonnegative(), file: z.string().min(1), sha256: sha256Hex }))
      .min(1),
    /** Whether the sessions may run fp16 weights (the GPU path); fp32 otherwise. */
    precision: z.enum(['fp32', 'fp16']).default('fp32'),
    tta: z.object({
      passes: z.array(TtaPassSchema).min(1),
      /** Scaled passes are padded (right and bottom) up to a multiple of this stride. */
      gridStride: z.number().int().positive(),
      /** Padding value of the scaled passes on the 0..1 scale (YOLOv5 uses 0.447). */
      padValue: z.number().min(0).max(1),
      /**
       * YOLOv5's _clip_augmented: drop the largest-object detection layer's rows from the first
       * pass and the smallest-object layer's rows from the last. Needs the detection head layout.
       */
      clipLayers: z
        .object({ strides: z.array(z.number().int().positive()).min(2), anchorsPerCell: z.number().int().positive() })
        .nullable(),
    }),
    postprocess: z.object({
      /** Boxes under this confidence are dropped before the merge. */
      scoreThreshold: z.number().min(0).max(1),
      nmsIouThreshold: z.number().gt(0).max(1),
      maxDetections: z.number().int().positive(),
      merge: z.enum(['nms', 'wbf']).default('nms'),
    }),
    /** A view is positive when a box has at least this confidence. */
    operatingThreshold: z.number().min(0).max(1),
    /**
     * Out-of-domain detection: each fold's pooled features of the identity pass (a second output)
     * against the training images' distribution in a sidecar file; absent on older models, whose
     * views are then not checked.
     */
    domain: DomainSchema.optional(),
  })
  .superRefine((m, ctx) => {
    if (m.input.size % m.tta.gridStride !== 0) {
      ctx.addIssue({ code: 'custom', path: ['input', 'size'], message: `must be a multiple of tta.gridStride (${m.tta.gridStride})` });
    }
    const foldIds = m.folds.map((f) => f.fold);
    if (new Set(foldIds).size !== foldIds.length) {
      ctx.addIssue({ code: 'custom', path: ['folds'], message: 'fold numbers must be unique' });
    }
    if (m.trainingData === 'synthetic' && m.intendedUse !== 'demonstration') {
      ctx.addIssue({ code: 'custom', path: ['intendedUse'], message: 'a model trained on synthetic images can only be a demonstration model' });
    }
    if (m.operatingThreshold < m.postprocess.scoreThreshold) {
      ctx.addIssue({ code: 'custom', path: ['operatingThreshold'], message: 'must not be below postprocess.scoreThreshold' });
    }
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type TtaPass = z.infer<typeof TtaPassSchema>;

export interface LoadedFold {
  fold: number;
  /** Absolute path of the ONNX file, checked against the manifest's sha256. */
  path: string;
  bytes: Uint8Array;
}

export interface LoadedManifest {
  manifest: Manifest;
  identity: ModelIdentity;
  folds: LoadedFold[];
  directory: string;
  /** The training-domain statistics; undefined when the manifest has none (views not checked). */
  domain?: DomainModel;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readPinned(directory: string, file: string, pinned: string, what: string): Promise<Buffer> {
  const filePath = path.resolve(directory, file);
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (cause) {
    throw new KneeTumorError('model-invalid', `${what}: cannot read ${filePath}`, { cause });
  }
  const actual = sha256(bytes);
  if (actual !== pinned) throw new KneeTumorError('model-invalid', `${what}: ${file} has sha256 ${actual}, the manifest pins ${pinned}`);
  return bytes;
}

/** Reads and validates a manifest and every fold file it names; any mismatch is model-invalid. */
export async function loadManifest(manifestPath: string): Promise<LoadedManifest> {
  const absolute = path.resolve(manifestPath);
  let raw: Buffer;
  try {
    raw = await readFile(absolute);
  } catch (cause) {
    throw new KneeTumorError('model-invalid', `cannot read the model manifest ${absolute}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new KneeTumorError('model-invalid', `the model manifest ${absolute} is not JSON`, { cause });
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new KneeTumorError('model-invalid', `the model manifest ${absolute} is invalid: ${describeIssues(parsed.error)}`);
  }
  const manifest = parsed.data;
  const directory = path.dirname(absolute);
  const folds = await Promise.all(
    manifest.folds.map(async (f): Promise<LoadedFold> => ({
      fold: f.fold,
      path: path.resolve(directory, f.file),
      bytes: await readPinned(directory, f.file, f.sha256, `fold ${f.fold}`),
    })),
  );
  const domain = manifest.domain
    ? parseDomainStatistics(
        await readPinned(directory, manifest.domain.statistics, manifest.domain.statisticsSha256, 'domain statistics'),
        manifest.domain.threshold,
        manifest.folds.map((f) => f.fold),
      )
    : undefined;
  return {
    manifest,
    identity: {
      name: manifest.name,
      version: manifest.version,
      manifestSha256: sha256(raw),
      trainingData: manifest.trainingData,
      intendedUse: manifest.intendedUse,
    },
    folds,
    directory,
    domain,
  };
}
