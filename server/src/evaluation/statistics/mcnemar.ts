/**
 * McNemar's test on paired accuracy (model vs reader on the same patients): only the patients on
 * whom exactly one of the two is correct carry information, and under the null hypothesis each
 * such patient is equally likely to favour either, so the exact test is a binomial test at 1/2.
 */
import { fairCoinTwoSidedP } from './binomial';

export interface McNemarTest {
  /** Patients the model got right and the reader wrong. */
  modelOnlyCorrect: number;
  /** Patients the reader got right and the model wrong. */
  readerOnlyCorrect: number;
  pValue: number;
  method: 'exact-binomial';
}

export function mcnemarTest(modelCorrect: readonly boolean[], readerCorrect: readonly boolean[]): McNemarTest {
  let modelOnlyCorrect = 0;
  let readerOnlyCorrect = 0;
  modelCorrect.forEach((correct, patient) => {
    if (correct && !readerCorrect[patient]) modelOnlyCorrect++;
    if (!correct && readerCorrect[patient]) readerOnlyCorrect++;
  });
  return {
    modelOnlyCorrect,
    readerOnlyCorrect,
    pValue: fairCoinTwoSidedP(modelOnlyCorrect, modelOnlyCorrect + readerOnlyCorrect),
    method: 'exact-binomial',
  };
}
