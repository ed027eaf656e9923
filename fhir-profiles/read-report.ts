/**
 * Reads our FHIR output back (pure): a DiagnosticReport and its patient-, view- and lesion-level
 * Observations become the finding the CDS cards and the viewer show. Both read the same fields
 * with this one function, and never the report's text. No Node APIs: the viewer bundles it.
 */
import type { Coding, DiagnosticReport, Extension, Observation } from 'fhir/r4';
import type { Laterality, ModelIdentity, ViewName } from '../server/src/domain/analysis';
import type { FindingFacts, TopLesion } from '../server/src/domain/wording';
import { AI_DEVICE_EXTENSION, FINDING, INTERPRETATION, MODEL_INTENDED_USE_EXTENSION, REPORT_CODES } from './codes';

export type ModelIntendedUse = ModelIdentity['intendedUse'];

export interface ReportLesion {
  /** The lesion Observation's id: the viewer draws boxes keyed by it. */
  id: string;
  /** Image pixels of the SOP instance, (x, y) the top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  foldsAgreeing: number;
  foldCount: number;
}

export interface ReportView {
  view: ViewName;
  sopInstanceUid: string;
  score: number;
  positive: boolean;
  boxes: ReportLesion[];
  /** The view's distance from the model's validated domain and the model's limit; absent when not checked. */
  domain?: { distance: number; threshold: number; outside: boolean };
}

export interface ReportReading {
  /** "DiagnosticReport/<id>" */
  report: string;
  conclusion: string;
  positive: boolean;
  /** No result: a view is outside the model's validated domain. */
  abstained: boolean;
  /** Views outside the model's validated domain (they give no finding). */
  outsideDomain: ViewName[];
  /** The patient score and the operating threshold; absent when the patient Observation was not read. */
  score?: number;
  operatingThreshold?: number;
  /** "name version" of the model. */
  model: string;
  /** From the report's ai-model-intended-use extension; absent on reports written before it existed. */
  intendedUse?: ModelIntendedUse;
  laterality?: Laterality;
  /** When the images were taken (the report's effective time). */
  studyDate?: string;
  issued?: string;
  views: Partial<Record<ViewName, ReportView>>;
}

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

function interpreted(o: { interpretation?: Observation['interpretation'] }, c: Coding): boolean {
  return o.interpretation?.some((i) => i.coding?.some((x) => same(x, c))) ?? false;
}

function positive(o: Observation): boolean {
  return interpreted(o, INTERPRETATION.positive);
}

function domainOf(o: Observation): ReportView['domain'] {
  const c = component(o, FINDING.domainDistance);
  const distance = c?.valueQuantity?.value;
  const threshold = c?.referenceRange?.[0]?.high?.value;
  if (!c || typeof distance !== 'number' || typeof threshold !== 'number') return undefined;
  return { distance, threshold, outside: interpreted(c, FINDING.outsideDomain) };
}

function lesionBox(o: Observation): ReportLesion {
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

/** The intended use a report or Device records; undefined when it records none (or an unknown one). */
export function modelIntendedUse(resource: { extension?: Extension[] }): ModelIntendedUse | undefined {
  const code = resource.extension?.find((e) => e.url === MODEL_INTENDED_USE_EXTENSION)?.valueCode;
  return code === 'demonstration' || code === 'clinical-evaluation' ? code : undefined;
}

function lateralityOf(report: DiagnosticReport): Laterality | undefined {
  const sides = ['L', 'R', 'B'] as const;
  return sides.find((side) => report.code.coding?.some((c) => same(c, REPORT_CODES[side])));
}

/** The report's reading; `observations` may hold other resources' Observations too: only its own are read. */
export function readReport(report: DiagnosticReport, observations: Observation[]): ReportReading {
  const own = new Set((report.result ?? []).map((r) => r.reference));
  const mine = observations.filter((o) => own.has(`Observation/${o.id}`));
  const views: ReportReading['views'] = {};
  const patient = mine.find((o) => hasCode(o, FINDING.patient));
  for (const o of mine.filter((x) => hasCode(x, FINDING.view))) {
    const view = viewOf(o);
    const sop = component(o, FINDING.imageRegion)?.valueString?.replace(/^urn:oid:/, '');
    const domain = domainOf(o);
    if (view && sop) views[view] = { view, sopInstanceUid: sop, score: o.valueQuantity?.value ?? 0, positive: positive(o), boxes: [], ...(domain ? { domain } : {}) };
  }
  for (const o of mine.filter((x) => hasCode(x, FINDING.lesion))) {
    const view = viewOf(o);
    if (view) views[view]?.boxes.push(lesionBox(o));
  }
  return {
    report: `DiagnosticReport/${report.id}`,
    conclusion: report.conclusion ?? '',
    // Without the patient Observation, the conclusion code says whether the report is positive.
    positive: patient ? positive(patient) : (report.conclusionCode?.length ?? 0) > 0,
    abstained: patient ? interpreted(patient, FINDING.outsideDomain) : false,
    outsideDomain: Object.values(views)
      .filter((v) => v?.domain?.outside)
      .map((v) => v?.view)
      .filter((v): v is ViewName => v !== undefined),
    score: patient?.valueQuantity?.value,
    operatingThreshold: patient ? componentNumber(patient, FINDING.threshold) : undefined,
    model: report.extension?.find((e) => e.url === AI_DEVICE_EXTENSION)?.valueReference?.display ?? 'unknown model',
    intendedUse: modelIntendedUse(report),
    laterality: lateralityOf(report),
    studyDate: report.effectiveDateTime,
    issued: report.issued,
    views,
  };
}

/** The finding as the wording functions take it; undefined when the Observations were not read. */
export function findingFacts(reading: ReportReading): FindingFacts | undefined {
  if (reading.score === undefined || reading.operatingThreshold === undefined) return undefined;
  let top: TopLesion | undefined;
  for (const view of Object.values(reading.views)) {
    if (view?.domain?.outside) continue;
    for (const box of view?.boxes ?? []) if (!top || box.confidence > top.confidence) top = { view: view.view, ...box };
  }
  return {
    positive: reading.positive,
    laterality: reading.laterality,
    operatingThreshold: reading.operatingThreshold,
    score: reading.score,
    top,
    outsideDomain: reading.outsideDomain,
    abstained: reading.abstained,
  };
}
