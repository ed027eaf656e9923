/**
 * Agreement between the readers on their patient decisions (a patient is positive when the reader
 * drew a box on either view): Cohen's kappa for every pair of readers, and Fleiss' kappa over all
 * of them when there are more than two.
 */
import { isPositive } from './cases';
import type { ReaderCases } from './readers';
import { countConfusion, kappaFromCounts } from './statistics/confusion';
import { fleissKappa, type Kappa } from './statistics/kappa';

export const READER_AGREEMENT_METHOD =
  "on patient decisions: Cohen's kappa per pair of readers with the Fleiss-Cohen-Everitt large-sample 95% interval; " +
  "with three or more readers Fleiss' kappa over all, 95% interval kappa +/- 1.96 SE with the asymptotic SE of " +
  'Fleiss, Nee and Landis (1979), derived under kappa = 0';

export interface ReaderPairAgreement {
  first: string;
  second: string;
  /** Cohen's kappa, Fleiss-Cohen-Everitt 95% interval (as the model's against the reference). */
  kappa: Kappa;
}

export interface ReaderAgreement {
  pairs: ReaderPairAgreement[];
  /** Over all readers; only with three or more (with two it would repeat the pair's kappa). */
  fleiss?: { readers: string[]; kappa: Kappa };
}

/** Undefined with fewer than two readers. */
export function readerAgreement(readers: readonly ReaderCases[]): ReaderAgreement | undefined {
  if (readers.length < 2) return undefined;
  const decisions = readers.map((reader) => reader.patients.map(isPositive));
  const pairs: ReaderPairAgreement[] = [];
  readers.forEach((first, i) =>
    readers.slice(i + 1).forEach((second, offset) => {
      // Kappa is symmetric in its two raters: the second reader takes the reference's place.
      const counts = countConfusion(decisions[i] as boolean[], decisions[i + 1 + offset] as boolean[]);
      pairs.push({ first: first.name, second: second.name, kappa: kappaFromCounts(counts) });
    }),
  );
  if (readers.length === 2) return { pairs };
  const categoryCounts = (decisions[0] as boolean[]).map((_, patient) => {
    const positive = decisions.filter((reader) => reader[patient]).length;
    return [readers.length - positive, positive];
  });
  return { pairs, fleiss: { readers: readers.map((reader) => reader.name), kappa: fleissKappa(categoryCounts) } };
}
