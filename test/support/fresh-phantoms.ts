/** Phantom patients from a seed no fold of the shipped ensemble and no evaluation of it used. */
import { DEFAULT_OPTIONS, generatePatient, type GeneratedPatient } from '../../models/phantoms/generate';
import { planPatient } from '../../models/phantoms/plan';

/** Training used 2024 and 3030, the model card's held-out set 7777. */
export const FRESH_SEED = 4242;

/** The first `count` patients of the fresh seed with (or without) a tumor, at the default size. */
export function freshPhantoms(tumor: boolean, count: number): GeneratedPatient[] {
  const patients: GeneratedPatient[] = [];
  for (let index = 0; index < 200 && patients.length < count; index++) {
    if ((planPatient(FRESH_SEED, index, DEFAULT_OPTIONS).lesion !== undefined) === tumor) patients.push(generatePatient(FRESH_SEED, index, DEFAULT_OPTIONS));
  }
  if (patients.length < count) throw new Error(`fewer than ${count} ${tumor ? 'tumor' : 'normal'} patients in the first 200 of seed ${FRESH_SEED}`);
  return patients;
}
