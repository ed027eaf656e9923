/**
 * Readers against the reference and against the model: a reader's radiograph is positive when the
 * reader drew any box on it, and the patient when either view is (the method's reader rule).
 */
import { isPositive, type PatientCase } from './cases';
import { lesionLevel, type LesionLevelResult } from './lesion-level';
import { patientDecisions } from './patient-level';
import { diagnosticMetrics, type DiagnosticMetrics } from './statistics/confusion';
import { mcnemarTest, type McNemarTest } from './statistics/mcnemar';
import { kappaPermutationTest, type KappaDifferenceTest } from './statistics/permutation';

export interface ReaderCases {
  name: string;
  /** The same patients, in the same order, as the model's cases, with the reader's boxes. */
  patients: PatientCase[];
}

export interface ReaderResult {
  name: string;
  metrics: DiagnosticMetrics;
  lesionLevel: LesionLevelResult;
  versusModel: {
    kappaDifference: KappaDifferenceTest;
    mcnemar: McNemarTest;
  };
}

export function evaluateReader(
  reader: ReaderCases,
  modelPatients: readonly PatientCase[],
  threshold: number,
  seed: number,
): ReaderResult {
  const reference = modelPatients.map((patient) => patient.tumor);
  const readerDecisions = reader.patients.map(isPositive);
  const modelDecisions = patientDecisions(modelPatients, threshold);
  return {
    name: reader.name,
    metrics: diagnosticMetrics(readerDecisions, reference),
    lesionLevel: lesionLevel(reader.patients),
    versusModel: {
      kappaDifference: kappaPermutationTest(modelDecisions, readerDecisions, reference, seed),
      mcnemar: mcnemarTest(
        modelDecisions.map((decision, index) => decision === reference[index]),
        readerDecisions.map((decision, index) => decision === reference[index]),
      ),
    },
  };
}
