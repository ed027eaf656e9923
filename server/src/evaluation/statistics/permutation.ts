/**
 * The method's comparison of the model with a reader: the difference in Cohen's kappa (each against
 * the reference) and its two-sided P value by a paired permutation test. Under the null hypothesis
 * the model's and the reader's decisions on a patient are exchangeable, so each iteration swaps
 * them with probability 1/2 per patient and recomputes the difference.
 */
import { countConfusion, kappaFromCounts } from './confusion';
import { seededRandom } from './random';

export interface KappaDifferenceTest {
  /** kappa(model) - kappa(reader). */
  difference: number;
  pValue: number;
  iterations: number;
  seed: number;
}

export const PERMUTATION_ITERATIONS = 10000;

function kappaOf(decisions: readonly boolean[], reference: readonly boolean[]): number {
  return kappaFromCounts(countConfusion(decisions, reference)).value;
}

export function kappaPermutationTest(
  model: readonly boolean[],
  reader: readonly boolean[],
  reference: readonly boolean[],
  seed: number,
  iterations = PERMUTATION_ITERATIONS,
): KappaDifferenceTest {
  const difference = kappaOf(model, reference) - kappaOf(reader, reference);
  const random = seededRandom(seed);
  const first = new Array<boolean>(model.length);
  const second = new Array<boolean>(model.length);
  // Round-off can make equal differences compare unequal; this keeps ties counted as extreme.
  const tolerance = 1e-12;
  let atLeastAsExtreme = 0;
  for (let iteration = 0; iteration < iterations; iteration++) {
    for (let patient = 0; patient < model.length; patient++) {
      const swap = random() < 0.5;
      first[patient] = (swap ? reader[patient] : model[patient]) as boolean;
      second[patient] = (swap ? model[patient] : reader[patient]) as boolean;
    }
    const permuted = kappaOf(first, reference) - kappaOf(second, reference);
    if (Math.abs(permuted) >= Math.abs(difference) - tolerance) atLeastAsExtreme++;
  }
  // Counting the observed arrangement as one of the permutations keeps P above zero (Phipson and Smyth, 2010).
  return { difference, pValue: (atLeastAsExtreme + 1) / (iterations + 1), iterations, seed };
}
