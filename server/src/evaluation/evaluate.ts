/**
 * The whole evaluation, from bound cases to the result the report renders: pure, so the CLI only
 * reads files, calls this, and writes files.
 */
import { READER_AGREEMENT_METHOD, readerAgreement, type ReaderAgreement } from './agreement';
import { operatingBoxes, type PatientCase } from './cases';
import { frocCurve, lesionLevel, type FrocPoint, type LesionLevelResult } from './lesion-level';
import { LOCALISATION_IOU } from './matching';
import { patientLevel, type PatientLevelResult } from './patient-level';
import { evaluateReader, type ReaderCases, type ReaderResult } from './readers';
import { describeAucInterval, type AucIntervalMethod } from './statistics/auc-interval';
import type { AucIntervalChoice } from './statistics/auc-types';
import { PERMUTATION_ITERATIONS } from './statistics/permutation';
import { subgroupAnalyses, type SubgroupAnalysis } from './subgroups';

export interface EvaluationOptions {
  /** A radiograph is positive when it has a box with confidence at or above this. */
  threshold: number;
  aucInterval: AucIntervalMethod;
  /** Replicates of the bootstrap interval; used only with aucInterval 'bootstrap'. */
  bootstrapReplicates: number;
  /** Seeds the permutation tests and the bootstrap, so a rerun gives the same P values and interval. */
  seed: number;
}

export interface Evaluation {
  kind: 'knee-tumor-evaluation';
  schemaVersion: 2;
  method: {
    localisationIou: number;
    decisionRule: string;
    patientScore: string;
    proportionIntervals: string;
    aucIntervalMethod: AucIntervalMethod;
    aucInterval: string;
    kappaInterval: string;
    readerComparison: string;
    readerAgreement: string;
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
  /** With two or more readers. */
  readerAgreement?: ReaderAgreement;
  subgroups: SubgroupAnalysis[];
}

function aucIntervalChoice(options: EvaluationOptions): AucIntervalChoice {
  return options.aucInterval === 'bootstrap'
    ? { method: 'bootstrap', replicates: options.bootstrapReplicates, seed: options.seed }
    : { method: options.aucInterval };
}

export function evaluate(
  patients: readonly PatientCase[],
  readers: readonly ReaderCases[],
  options: EvaluationOptions,
): Evaluation {
  const radiographs = patients.flatMap((patient) => patient.radiographs);
  const tumorPatients = patients.filter((patient) => patient.tumor).length;
  const aucInterval = aucIntervalChoice(options);
  const agreement = readerAgreement(readers);
  return {
    kind: 'knee-tumor-evaluation',
    schemaVersion: 2,
    method: {
      localisationIou: LOCALISATION_IOU,
      decisionRule: `radiograph positive when a box has confidence >= ${options.threshold}; patient positive when either view is`,
      patientScore: 'highest box confidence over both views (0 without boxes)',
      proportionIntervals: 'exact Clopper-Pearson 95%',
      aucIntervalMethod: options.aucInterval,
      aucInterval: describeAucInterval(aucInterval),
      kappaInterval: 'Fleiss-Cohen-Everitt large-sample 95%',
      readerComparison: `kappa difference by a two-sided paired permutation test (${PERMUTATION_ITERATIONS} iterations); McNemar exact test on paired accuracy`,
      readerAgreement: READER_AGREEMENT_METHOD,
      subgroupTests: "Pearson chi-squared of accuracy across levels; Fisher's (Freeman-Halton) exact test when an expected count is below 5",
      permutationIterations: PERMUTATION_ITERATIONS,
      ...(aucInterval.method === 'bootstrap' ? { bootstrapReplicates: aucInterval.replicates } : {}),
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
      patientLevel: patientLevel(patients, options.threshold, aucInterval),
    },
    readers: readers.map((reader) => evaluateReader(reader, patients, options.threshold, options.seed)),
    ...(agreement === undefined ? {} : { readerAgreement: agreement }),
    subgroups: subgroupAnalyses(patients, readers, options.threshold, aucInterval),
  };
}
