/**
 * The phantom generator's API: one patient (two DICOM views and the reference entry) as a pure
 * function of (seed, index, options), and a whole reference set written to a folder as
 * `<out>/<patientId>/{AP,LAT}.dcm` plus `<out>/reference.json`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PixelBox, ViewName } from '../../server/src/domain/analysis';
import type { ReferenceImage, ReferencePatient, ReferenceSet } from '../../server/src/domain/reference';
import { KneeTumorError } from '../../server/src/errors';
import { writeViewDicom } from './dicom-writer';
import { DEFAULT_OPTIONS, planPatient, type PatientPlan, type PhantomOptions } from './plan';
import { hashSeed, Rng } from './random';
import { renderView } from './view-render';

export { DEFAULT_OPTIONS, type PhantomOptions } from './plan';

/** Lesion size (mm) at which the method's median split falls. */
export const SIZE_SPLIT_MM = 50;

export interface GeneratedPatient {
  reference: ReferencePatient;
  /** Part 10 bytes of the AP and lateral views. */
  ap: Uint8Array;
  lateral: Uint8Array;
}

const FILE_NAMES: Record<ViewName, string> = { AP: 'AP.dcm', LATERAL: 'LAT.dcm' };

function validate(options: PhantomOptions): void {
  const { width, height, tumorFraction } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 256 || height < 256 || width > 4096 || height > 4096) {
    throw new KneeTumorError('bad-request', `image size must be whole pixels from 256 to 4096, got ${width} x ${height}`);
  }
  if (!(tumorFraction >= 0 && tumorFraction <= 1)) {
    throw new KneeTumorError('bad-request', `tumor fraction must be between 0 and 1, got ${tumorFraction}`);
  }
}

function attributes(plan: PatientPlan): Record<string, string | number> {
  const out: Record<string, string | number> = {
    center: plan.center.name,
    ageYears: plan.ageYears,
    ageGroup: plan.ageYears < 18 ? '<18' : '>=18',
    sex: plan.sex,
    manufacturer: plan.device.manufacturer,
    model: plan.device.model,
    modality: plan.device.modality,
    lesionKind: plan.lesion?.kind ?? 'none',
  };
  if (plan.lesion) {
    out.lesionSizeMm = plan.lesion.sizeMm;
    out.sizeGroup = plan.lesion.sizeMm < SIZE_SPLIT_MM ? `<${SIZE_SPLIT_MM}mm` : `>=${SIZE_SPLIT_MM}mm`;
    out.lesionBone = plan.lesion.bone;
    out.lesionSite = plan.lesion.site;
  }
  return out;
}

/**
 * One view of a planned patient as DICOM bytes and its lesion box. Exposed so that a test can
 * render the same patient without its lesion and see exactly what the lesion changed.
 */
export function renderPatientView(plan: PatientPlan, viewIndex: 0 | 1, options: PhantomOptions): { bytes: Uint8Array; box?: PixelBox } {
  const view = plan.views[viewIndex];
  const rendered = renderView(plan, view, options.width, options.height, new Rng(hashSeed(plan.seed, plan.index, 0x76696577, viewIndex)));
  const bytes = writeViewDicom(plan, view, rendered.image, options.width, options.height);
  return rendered.box ? { bytes, box: rendered.box } : { bytes };
}

/** One patient: deterministic in (seed, index, options), independent of every other patient. */
export function generatePatient(seed: number, index: number, options: PhantomOptions = DEFAULT_OPTIONS): GeneratedPatient {
  return generatePlannedPatient(planPatient(seed, index, options), options);
}

/** The patient a plan describes (one from planPatient, possibly given another identity). */
export function generatePlannedPatient(plan: PatientPlan, options: PhantomOptions): GeneratedPatient {
  validate(options);
  const ap = renderPatientView(plan, 0, options);
  const lateral = renderPatientView(plan, 1, options);
  const images: ReferenceImage[] = [ap, lateral].map((rendered, i) => {
    const view = plan.views[i === 0 ? 0 : 1];
    return {
      imageId: view.sopInstanceUid,
      view: view.view,
      width: options.width,
      height: options.height,
      boxes: rendered.box ? [rendered.box] : [],
      file: `${plan.patientId}/${FILE_NAMES[view.view]}`,
    };
  });
  return {
    reference: {
      patientId: plan.patientId,
      studyInstanceUid: plan.studyInstanceUid,
      tumor: plan.lesion !== undefined,
      laterality: plan.laterality,
      attributes: attributes(plan),
      images,
    },
    ap: ap.bytes,
    lateral: lateral.bytes,
  };
}

export interface ReferenceSetOptions extends PhantomOptions {
  seed: number;
  patients: number;
  /** Index of the first patient: a held-out set can continue a training set's seed. */
  firstIndex?: number;
  out: string;
  onPatient?: (done: number, total: number) => void;
}

/** Generates `patients` patients and writes their files and `reference.json` under `out`. */
export async function generateReferenceSet(options: ReferenceSetOptions): Promise<ReferenceSet> {
  if (!Number.isInteger(options.patients) || options.patients < 1) {
    throw new KneeTumorError('bad-request', `the number of patients must be a positive whole number, got ${options.patients}`);
  }
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
    throw new KneeTumorError('bad-request', `the seed must be a non-negative whole number, got ${options.seed}`);
  }
  const first = options.firstIndex ?? 0;
  const patients: ReferencePatient[] = [];
  for (let i = 0; i < options.patients; i++) {
    const generated = generatePatient(options.seed, first + i, options);
    const folder = path.join(options.out, generated.reference.patientId);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, FILE_NAMES.AP), generated.ap);
    await writeFile(path.join(folder, FILE_NAMES.LATERAL), generated.lateral);
    patients.push(generated.reference);
    options.onPatient?.(i + 1, options.patients);
  }
  const set: ReferenceSet = {
    kind: 'knee-tumor-reference',
    schemaVersion: 1,
    description: `Synthetic knee radiograph phantoms (NOT patient data): seed ${options.seed}, patients ${first}..${first + options.patients - 1}, ${options.width} x ${options.height} px, tumor fraction ${options.tumorFraction}`,
    patients,
  };
  await writeFile(path.join(options.out, 'reference.json'), `${JSON.stringify(set, null, 2)}\n`);
  return set;
}
