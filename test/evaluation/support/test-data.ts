/** Reproducible random test data: every generator draws from the toolkit's seeded PRNG. */
import { seededRandom, type RandomSource } from '../../../server/src/evaluation/statistics/random';

export interface ScoredPatients {
  scores: number[];
  tumor: boolean[];
}

/**
 * Tumor patients score higher on average; `levels` > 0 rounds scores to that many steps so that
 * ties (common with few distinct confidences) are exercised.
 */
export function scoredPatients(seed: number, tumorCount: number, normalCount: number, levels = 0): ScoredPatients {
  const random = seededRandom(seed);
  const draw = (shift: number): number => {
    const value = Math.min(1, Math.max(0, 0.5 * random() + 0.5 * random() + shift));
    return levels > 0 ? Math.round(value * levels) / levels : value;
  };
  const scores: number[] = [];
  const tumor: boolean[] = [];
  for (let i = 0; i < tumorCount; i++) {
    scores.push(draw(0.25));
    tumor.push(true);
  }
  for (let i = 0; i < normalCount; i++) {
    scores.push(draw(-0.1));
    tumor.push(false);
  }
  return { scores, tumor };
}

/** Decisions that agree with `truth` with the given probability. */
export function noisyDecisions(random: RandomSource, truth: readonly boolean[], agreement: number): boolean[] {
  return truth.map((value) => (random() < agreement ? value : !value));
}

export function randomTruth(random: RandomSource, n: number, prevalence: number): boolean[] {
  return Array.from({ length: n }, () => random() < prevalence);
}
