/**
 * Patient-level results of the model: the ROC analysis of the patient score, and the decision
 * metrics at the operating threshold (a patient is positive when either view has a box at or
 * above it).
 */
import { isPositive, operatingBoxes, patientScore, type PatientCase } from './cases';
import { bootstrapAuc } from './statistics/bootstrap';
import { diagnosticMetrics, type DiagnosticMetrics } from './statistics/confusion';
import { delongAuc, type AucWithInterval } from './statistics/delong';
import { rocCurve, youdenOptimal, type RocPoint, type YoudenPoint } from './statistics/roc';

export interface RocAnalysis {
  auc: AucWithInterval;
  /** Present when a bootstrap was asked for, beside (not instead of) DeLong's interval. */
  aucBootstrap?: AucWithInterval;
  curve: RocPoint[];
  youden: YoudenPoint;
}

export interface PatientLevelResult {
  operatingThreshold: number;
  metrics: DiagnosticMetrics;
  /** Absent when the patients are all tumor or all normal: no curve can be drawn. */
  roc?: RocAnalysis;
}

export interface Resampling {
  bootstrapReplicates?: number;
  seed: number;
}

export function patientDecisions(patients: readonly PatientCase[], threshold: number): boolean[] {
  return operatingBoxes(patients, threshold).map(isPositive);
}

export function rocAnalysis(patients: readonly PatientCase[], resampling: Resampling): RocAnalysis | undefined {
  const tumor = patients.map((patient) => patient.tumor);
  if (!tumor.includes(true) || !tumor.includes(false)) return undefined;
  const scores = patients.map(patientScore);
  const curve = rocCurve(scores, tumor);
  return {
    auc: delongAuc(scores, tumor),
    ...(resampling.bootstrapReplicates === undefined
      ? {}
      : { aucBootstrap: bootstrapAuc(scores, tumor, resampling.bootstrapReplicates, resampling.seed) }),
    curve,
    youden: youdenOptimal(curve),
  };
}

export function patientLevel(
  patients: readonly PatientCase[],
  threshold: number,
  resampling: Resampling,
): PatientLevelResult {
  const roc = rocAnalysis(patients, resampling);
  return {
    operatingThreshold: threshold,
    metrics: diagnosticMetrics(
      patientDecisions(patients, threshold),
      patients.map((patient) => patient.tumor),
    ),
    ...(roc === undefined ? {} : { roc }),
  };
}
