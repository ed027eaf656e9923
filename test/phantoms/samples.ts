/**
 * Sample images for a person to look at: the presented AP and lateral views (box drawn in red)
 * of a young patient with open growth plates and of one patient per lesion kind.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { renderPatientView } from '../../models/phantoms/generate';
import { LESION_KINDS } from '../../models/phantoms/lesions';
import { planPatient, type PatientPlan, type PhantomOptions } from '../../models/phantoms/plan';
import type { PixelBox } from '../../server/src/domain/analysis';
import { present } from './present';

export const SAMPLE_DIR = path.join(__dirname, '..', '..', 'test-output', 'phantoms');

function boxOverlay(box: PixelBox, width: number, height: number): Buffer {
  return Buffer.from(
    `<svg width="${width}" height="${height}"><rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" fill="none" stroke="red" stroke-width="2"/></svg>`,
  );
}

async function writeView(plan: PatientPlan, viewIndex: 0 | 1, options: PhantomOptions, file: string): Promise<void> {
  const { bytes, box } = renderPatientView(plan, viewIndex, options);
  const shown = present(bytes);
  const image = sharp(Buffer.from(shown.gray), { raw: { width: shown.width, height: shown.height, channels: 1 } });
  const composed = box ? image.composite([{ input: boxOverlay(box, shown.width, shown.height) }]) : image;
  await composed.png().toFile(file);
}

function findPlan(seed: number, options: PhantomOptions, wanted: (plan: PatientPlan) => boolean): PatientPlan {
  for (let index = 0; index < 5000; index++) {
    const plan = planPatient(seed, index, options);
    if (wanted(plan)) return plan;
  }
  throw new Error('no patient of the wanted kind in the first 5000');
}

/** Writes the samples; returns the file names. */
export async function writeSamples(seed: number, options: PhantomOptions, dir = SAMPLE_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const cases: [string, PatientPlan][] = [
    ['normal-young', findPlan(seed, options, (p) => !p.lesion && p.ageYears >= 9 && p.ageYears <= 14)],
    ['normal-adult', findPlan(seed, options, (p) => !p.lesion && p.ageYears >= 30)],
    ...LESION_KINDS.map((kind) => [kind, findPlan(seed, options, (p) => p.lesion?.kind === kind)] as [string, PatientPlan]),
  ];
  const files: string[] = [];
  for (const [name, plan] of cases) {
    for (const viewIndex of [0, 1] as const) {
      const file = path.join(dir, `${name}-${viewIndex === 0 ? 'AP' : 'LAT'}.png`);
      await writeView(plan, viewIndex, options, file);
      files.push(file);
    }
  }
  return files;
}
