/**
 * Patient-level results of the model: the ROC analysis of the patient score, and the decision
 * metrics at the operating threshold (a patient is positive when either view has a box at or
 * above it).
 */
import { isPositive, operatingBoxes, patientScore, type PatientCase } from './cases';
import { aucWithInterval } from './statistics/auc-interval';
import type { AucIntervalChoice, AucWithInterval } from './statistics/auc-types';
import { diagnosticMetrics, type DiagnosticMetrics } from './statistics/confusion';
import { rocCurve, youdenOptimal, type RocPoint, type YoudenPoint } from './statistics/roc';

export interface RocAnalysis {
  /** With its 95% interval by the method the evaluation chose (named in `method`). */
  auc: AucWithInterval;
  curve: RocPoint[];
  youden: YoudenPoint;
}

export interface PatientLevelResult {
  operatingThreshold: number;
  metrics: DiagnosticMetrics;
  /** Absent when the patients are all tumor or all normal: no curve can be drawn. */
  roc?: RocAnalysis;
}

export function patientDecisions(patients: readonly PatientCase[], threshold: number): boolean[] {
  return operatingBoxes(patients, threshold).map(isPositive);
}

export function rocAnalysis(patients: readonly PatientCase[], aucInterval: AucIntervalChoice): RocAnalysis | undefined {
  const tumor = patients.map((patient) => patient.tumor);
  if (!tumor.includes(true) || !tumor.includes(false)) return undefined;
  const scores = patients.map(patientScore);
  const curve = rocCurve(scores, tumor);
  return {
    auc: aucWithInterval(scores, tumor, aucInterval),
    curve,
    youden: youdenOptimal(curve),
  };
}

export function patientLevel(
  patients: readonly PatientCase[],
  threshold: number,
  aucInterval: AucIntervalChoice,
): PatientLevelResult {
  const roc = rocAnalysis(patients, aucInterval);
  return {
    operatingThreshold: threshold,
    metrics: diagnosticMetrics(
      patientDecisions(patients, threshold),
      patients.map((patient) => patient.tumor),
    ),
    ...(roc === undefined ? {} : { roc }),
  };
}
