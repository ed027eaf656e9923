/**
 * The whole evaluation, from bound cases to the result the report renders: pure, so the CLI only
 * reads files, calls this, and writes files.
 */
import { operatingBoxes, type PatientCase } from './cases';
import { frocCurve, lesionLevel, type FrocPoint, type LesionLevelResult } from './lesion-level';
import { LOCALISATION_IOU } from './matching';
import { patientLevel, type PatientLevelResult } from './patient-level';
import { evaluateReader, type ReaderCases, type ReaderResult } from './readers';
import { PERMUTATION_ITERATIONS } from './statistics/permutation';
import { subgroupAnalyses, type SubgroupAnalysis } from './subgroups';

export interface EvaluationOptions {
  /** A radiograph is positive when it has a box with confidence at or above this. */
  threshold: number;
  /** Also give a percentile bootstrap interval of the AUC with this many replicates. */
  bootstrapReplicates?: number;
  /** Seeds the permutation tests and the bootstrap, so a rerun gives the same P values. */
  seed: number;
}

export interface Evaluation {
  kind: 'knee-tumor-evaluation';
  schemaVersion: 1;
  method: {
    localisationIou: number;
    decisionRule: string;
    patientScore: string;
    proportionIntervals: string;
    aucInterval: string;
    kappaInterval: string;
    readerComparison: string;
    subgroupTests: string;
    permutationIterations: number;
    bootstrapReplicates?: number;
    seed: number;
  };
  dataset: { patients: number; tumorPatients: number; normalPatients: number; radiographs: number; lesions: number };
  model: {
    lesionLevel: LesionLevelResult;
    froc: FrocPoint[];
    patientLevel: PatientLevelResult;
  };
  readers: ReaderResult[];
  subgroups: SubgroupAnalysis[];
}

export function evaluate(
  patients: readonly PatientCase[],
  readers: readonly ReaderCases[],
  options: EvaluationOptions,
): Evaluation {
  const radiographs = patients.flatMap((patient) => patient.radiographs);
  const tumorPatients = patients.filter((patient) => patient.tumor).length;
  return {
    kind: 'knee-tumor-evaluation',
    schemaVersion: 1,
    method: {
      localisationIou: LOCALISATION_IOU,
      decisionRule: `radiograph positive when a box has confidence >= ${options.threshold}; patient positive when either view is`,
      patientScore: 'highest box confidence over both views (0 without boxes)',
      proportionIntervals: 'exact Clopper-Pearson 95%',
      aucInterval: 'DeLong 95% (normal approximation, clipped to [0, 1])',
      kappaInterval: 'Fleiss-Cohen-Everitt large-sample 95%',
      readerComparison: `kappa difference by a two-sided paired permutation test (${PERMUTATION_ITERATIONS} iterations); McNemar exact test on paired accuracy`,
      subgroupTests: "Pearson chi-squared of accuracy across levels; Fisher's (Freeman-Halton) exact test when an expected count is below 5",
      permutationIterations: PERMUTATION_ITERATIONS,
      ...(options.bootstrapReplicates === undefined ? {} : { bootstrapReplicates: options.bootstrapReplicates }),
      seed: options.seed,
    },
    dataset: {
      patients: patients.length,
      tumorPatients,
      normalPatients: patients.length - tumorPatients,
      radiographs: radiographs.length,
      lesions: radiographs.reduce((total, radiograph) => total + radiograph.lesions.length, 0),
    },
    model: {
      lesionLevel: lesionLevel(operatingBoxes(patients, options.threshold)),
      froc: frocCurve(patients),
      patientLevel: patientLevel(patients, options.threshold, options),
    },
    readers: readers.map((reader) => evaluateReader(reader, patients, options.threshold, options.seed)),
    subgroups: subgroupAnalyses(patients, readers, options.threshold, options.seed),
  };
}
