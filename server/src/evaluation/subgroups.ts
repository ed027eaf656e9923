/**
 * The method's subgroup analysis from the truth file's per-patient attributes: center, age
 * (< 18 / >= 18: open growth plates are a known failure mode), tumor size (below / at or above the
 * median, tumor patients only) and imaging device. Each subgroup gets the same metrics, and the
 * accuracy across its levels is tested (chi-squared, exact when counts are small).
 */
import type { PatientCase } from './cases';
import { isPositive } from './cases';
import { patientDecisions, rocAnalysis } from './patient-level';
import type { ReaderCases } from './readers';
import { diagnosticMetrics, type DiagnosticMetrics } from './statistics/confusion';
import { compareAccuracy, type AccuracyComparison } from './statistics/contingency';
import type { AucIntervalChoice, AucWithInterval } from './statistics/auc-types';

/** The attribute keys read from `ReferencePatient.attributes`. */
export const SUBGROUP_ATTRIBUTES = {
  center: 'center',
  ageYears: 'ageYears',
  lesionSizeMm: 'lesionSizeMm',
  manufacturer: 'manufacturer',
  deviceModel: 'model',
} as const;

const ADULT_AGE_YEARS = 18;

interface SubgroupDefinition {
  name: string;
  levelOf: (patient: PatientCase) => string | undefined;
}

export interface RaterInSubgroup {
  name: string;
  metrics: DiagnosticMetrics;
}

export interface SubgroupLevel {
  level: string;
  patients: number;
  model: DiagnosticMetrics;
  /** Absent when the level has only tumor or only normal patients. */
  auc?: AucWithInterval;
  readers: RaterInSubgroup[];
}

export interface SubgroupAnalysis {
  name: string;
  patientsWithoutAttribute: number;
  levels: SubgroupLevel[];
  /** Accuracy across levels; absent when it cannot be tested (one level, or no errors at all). */
  modelAccuracyAcrossLevels?: AccuracyComparison;
  readerAccuracyAcrossLevels: { name: string; comparison?: AccuracyComparison }[];
}

function numberAttribute(patient: PatientCase, key: string): number | undefined {
  const value = patient.attributes[key];
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function textAttribute(patient: PatientCase, key: string): string | undefined {
  const value = patient.attributes[key];
  return value === undefined || value === '' ? undefined : String(value);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function definitions(patients: readonly PatientCase[]): SubgroupDefinition[] {
  const sizes = patients
    .filter((patient) => patient.tumor)
    .map((patient) => numberAttribute(patient, SUBGROUP_ATTRIBUTES.lesionSizeMm))
    .filter((size): size is number => size !== undefined);
  const medianSize = sizes.length > 0 ? median(sizes) : undefined;
  const formatSize = (size: number): string => `${Number(size.toFixed(1))} mm`;
  return [
    { name: 'center', levelOf: (patient) => textAttribute(patient, SUBGROUP_ATTRIBUTES.center) },
    {
      name: 'age group',
      levelOf: (patient) => {
        const age = numberAttribute(patient, SUBGROUP_ATTRIBUTES.ageYears);
        if (age === undefined) return undefined;
        return age < ADULT_AGE_YEARS ? `< ${ADULT_AGE_YEARS} years` : `>= ${ADULT_AGE_YEARS} years`;
      },
    },
    {
      name: 'tumor size',
      levelOf: (patient) => {
        const size = patient.tumor ? numberAttribute(patient, SUBGROUP_ATTRIBUTES.lesionSizeMm) : undefined;
        if (size === undefined || medianSize === undefined) return undefined;
        return size < medianSize ? `< ${formatSize(medianSize)} (median)` : `>= ${formatSize(medianSize)} (median)`;
      },
    },
    {
      name: 'device',
      levelOf: (patient) => {
        const parts = [SUBGROUP_ATTRIBUTES.manufacturer, SUBGROUP_ATTRIBUTES.deviceModel]
          .map((key) => textAttribute(patient, key))
          .filter((part): part is string => part !== undefined);
        return parts.length === 0 ? undefined : parts.join(' ');
      },
    },
  ];
}

function accuracyTable(decisions: readonly boolean[][], truths: readonly boolean[][]): [number, number][] {
  return decisions.map((levelDecisions, level) => {
    const correct = levelDecisions.filter((decision, index) => decision === truths[level]?.[index]).length;
    return [correct, levelDecisions.length - correct];
  });
}

export function subgroupAnalyses(
  patients: readonly PatientCase[],
  readers: readonly ReaderCases[],
  threshold: number,
  aucInterval: AucIntervalChoice,
): SubgroupAnalysis[] {
  const analyses: SubgroupAnalysis[] = [];
  for (const definition of definitions(patients)) {
    const indicesByLevel = new Map<string, number[]>();
    patients.forEach((patient, index) => {
      const level = definition.levelOf(patient);
      if (level === undefined) return;
      indicesByLevel.set(level, [...(indicesByLevel.get(level) ?? []), index]);
    });
    if (indicesByLevel.size === 0) continue;
    const levels = [...indicesByLevel.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const pick = <T>(items: readonly T[], level: string): T[] =>
      (indicesByLevel.get(level) ?? []).map((index) => items[index] as T);
    const truths = levels.map((level) => pick(patients, level).map((patient) => patient.tumor));
    const modelDecisions = levels.map((level) => patientDecisions(pick(patients, level), threshold));
    const readerDecisions = readers.map((reader) =>
      levels.map((level) => pick(reader.patients, level).map(isPositive)),
    );
    const modelComparison = compareAccuracy(accuracyTable(modelDecisions, truths));
    analyses.push({
      name: definition.name,
      patientsWithoutAttribute: patients.length - [...indicesByLevel.values()].reduce((a, b) => a + b.length, 0),
      levels: levels.map((level, l) => {
        const roc = rocAnalysis(pick(patients, level), aucInterval);
        return {
          level,
          patients: (truths[l] as boolean[]).length,
          model: diagnosticMetrics(modelDecisions[l] as boolean[], truths[l] as boolean[]),
          ...(roc === undefined ? {} : { auc: roc.auc }),
          readers: readers.map((reader, r) => ({
            name: reader.name,
            metrics: diagnosticMetrics(readerDecisions[r]?.[l] as boolean[], truths[l] as boolean[]),
          })),
        };
      }),
      ...(modelComparison === undefined ? {} : { modelAccuracyAcrossLevels: modelComparison }),
      readerAccuracyAcrossLevels: readers.map((reader, r) => {
        const comparison = compareAccuracy(accuracyTable(readerDecisions[r] as boolean[][], truths));
        return { name: reader.name, ...(comparison === undefined ? {} : { comparison }) };
      }),
    });
  }
  return analyses;
}
