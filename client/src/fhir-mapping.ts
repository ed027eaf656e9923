/**
 * Reads our FHIR output back (pure): the DiagnosticReport and its patient-, view- and lesion-level
 * Observations become the StudyResult the viewer draws. Codes come from the server's codes.ts, the
 * one list both sides agree on.
 */
import type { Coding, DiagnosticReport, ImagingStudy, Observation, Patient } from 'fhir/r4';
import { AI_DEVICE_EXTENSION, FINDING, INTERPRETATION, SYSTEMS } from '../../server/src/fhir/codes';
import type { LesionBox, PatientSummary, StudyItem, StudyResult, ViewName, ViewResult } from './model';

const same = (a: Coding | undefined, b: Coding) => a?.system === b.system && a?.code === b.code;
const hasCode = (o: Observation, c: Coding) => o.code.coding?.some((x) => same(x, c)) ?? false;

function component(o: Observation, c: Coding) {
  return o.component?.find((x) => x.code.coding?.some((y) => same(y, c)));
}

function componentNumber(o: Observation, c: Coding): number {
  const value = component(o, c)?.valueQuantity?.value;
  if (typeof value !== 'number') throw new Error(`Observation/${o.id} has no ${c.code}`);
  return value;
}

function viewOf(o: Observation): ViewName | undefined {
  const code = component(o, FINDING.radiographicView)?.valueCodeableConcept?.coding?.[0]?.code;
  return code === 'AP' || code === 'LATERAL' ? code : undefined;
}

function positive(o: Observation): boolean {
  return o.interpretation?.some((i) => i.coding?.some((c) => same(c, INTERPRETATION.positive))) ?? false;
}

function lesionBox(o: Observation): LesionBox {
  const folds = component(o, FINDING.foldsAgreeing)?.valueRatio;
  return {
    id: o.id ?? '',
    x: componentNumber(o, FINDING.boxX),
    y: componentNumber(o, FINDING.boxY),
    width: componentNumber(o, FINDING.boxWidth),
    height: componentNumber(o, FINDING.boxHeight),
    confidence: o.valueQuantity?.value ?? 0,
    foldsAgreeing: folds?.numerator?.value ?? 0,
    foldCount: folds?.denominator?.value ?? 0,
  };
}

export function toStudyResult(report: DiagnosticReport, observations: Observation[]): StudyResult {
  const views: StudyResult['views'] = {};
  const patient = observations.find((o) => hasCode(o, FINDING.patient));
  for (const o of observations.filter((x) => hasCode(x, FINDING.view))) {
    const view = viewOf(o);
    const sop = component(o, FINDING.imageRegion)?.valueString?.replace(/^urn:oid:/, '');
    if (!view || !sop) continue;
    const result: ViewResult = { view, sopInstanceUid: sop, score: o.valueQuantity?.value ?? 0, positive: positive(o), boxes: [] };
    views[view] = result;
  }
  for (const o of observations.filter((x) => hasCode(x, FINDING.lesion))) {
    const view = viewOf(o);
    if (view) views[view]?.boxes.push(lesionBox(o));
  }
  const device = report.extension?.find((e) => e.url === AI_DEVICE_EXTENSION)?.valueReference?.display;
  return {
    report: `DiagnosticReport/${report.id}`,
    conclusion: report.conclusion ?? '',
    positive: patient ? positive(patient) : false,
    score: patient?.valueQuantity?.value ?? 0,
    operatingThreshold: patient ? componentNumber(patient, FINDING.threshold) : 0.5,
    model: device ?? 'unknown model',
    issued: report.issued,
    views,
  };
}

export function studyInstanceUidOf(study: ImagingStudy): string | undefined {
  const value = study.identifier?.find((i) => i.system === SYSTEMS.dicomUid)?.value;
  return value?.replace(/^urn:oid:/, '');
}

export function toStudyItem(study: ImagingStudy): StudyItem | undefined {
  const uid = studyInstanceUidOf(study);
  if (!uid || !study.id) return undefined;
  return { imagingStudyId: study.id, studyInstanceUid: uid, started: study.started, description: study.description };
}

export function toPatientSummary(patient: Patient): PatientSummary {
  const name = patient.name?.[0];
  const text = name?.text ?? [name?.given?.join(' '), name?.family].filter(Boolean).join(' ');
  return { name: text || 'Unnamed patient', birthDate: patient.birthDate, gender: patient.gender };
}

/** Our analysis reports carry this identifier system; other reports of the patient are not ours. */
export const ANALYSIS_IDENTIFIER_SYSTEM = SYSTEMS.analysisId;
