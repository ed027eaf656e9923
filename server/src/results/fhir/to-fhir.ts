/**
 * Maps one analysis to FHIR R4 (pure): a transaction Bundle with the model's Device, one
 * patient-level, one per-view and one per-lesion-box Observation, the DiagnosticReport and a
 * Provenance. Every resource is a conditional create keyed by an identifier derived from
 * StudyInstanceUID + model (the Provenance, which has no identifier, by a meta tag), so sending the same analysis
 * again creates nothing.
 */
import { createHash } from 'node:crypto';
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  Device,
  DiagnosticReport,
  Extension,
  FhirResource,
  Observation,
  ObservationComponent,
  Provenance,
  Quantity,
  Reference,
} from 'fhir/r4';
import {
  DEMONSTRATION_MODEL_NOTICE,
  isDemonstrationModel,
  outsideDomainViews,
  type AnalysisResult,
  type DomainCheck,
  type Laterality,
  type ViewName,
  type ViewFinding,
} from '../../domain/analysis';
import { CONFIDENCE_MEANING, OUTSIDE_DOMAIN_MEANING, VIEW_WORDS, findingSentence, type TopLesion } from '../../domain/wording';
import {
  AI_ASSERTED,
  AI_DEVICE_EXTENSION,
  LATERALITY_EXTENSION,
  MODEL_INTENDED_USE_EXTENSION,
  FINDING,
  INTERPRETATION,
  KNEE_REGION,
  LATERALITY,
  NEOPLASM_OF_BONE,
  PROFILES,
  REPORT_CODES,
  SYSTEMS,
  analysisKey,
} from '../../../../fhir-profiles/codes';

/** What the FHIR server knows about the study, found before the write. */
export interface FhirStudyRecord {
  /** e.g. "Patient/123", from ImagingStudy.subject. */
  patient: string;
  /** e.g. "ImagingStudy/456". */
  imagingStudy: string;
  /** When the images were taken (ImagingStudy.started), the report's effective time. */
  started?: string;
}


type Entry = BundleEntry<FhirResource>;

/** A stable urn:uuid for a resource of the bundle, so that the same input gives the same bundle. */
function fullUrlFor(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function conditionalCreate(fullUrl: string, resource: FhirResource, identifierSystem: string, identifierValue: string): Entry {
  return {
    fullUrl,
    resource,
    request: {
      method: 'POST',
      url: resource.resourceType,
      ifNoneExist: `identifier=${encodeURIComponent(identifierSystem)}|${encodeURIComponent(identifierValue)}`,
    },
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function pixels(value: number): Quantity {
  return { value: round(value, 1), unit: 'pixel', system: SYSTEMS.ucum, code: '{pixel}' };
}

function score(value: number): Quantity {
  return { value: round(value, 4), unit: 'score', system: SYSTEMS.ucum, code: '1' };
}

function studyLaterality(result: AnalysisResult): Laterality | undefined {
  const sides = new Set(result.views.map((v) => v.laterality).filter((l): l is Laterality => l !== undefined));
  return sides.size === 1 ? [...sides][0] : undefined;
}

function bodySite(laterality: Laterality | undefined): CodeableConcept {
  const site: CodeableConcept = { coding: [KNEE_REGION], text: 'Knee' };
  if (laterality === 'L' || laterality === 'R') {
    const extension: Extension = { url: LATERALITY_EXTENSION, valueCodeableConcept: { coding: [LATERALITY[laterality]] } };
    return { ...site, extension: [extension], text: laterality === 'L' ? 'Left knee' : 'Right knee' };
  }
  return site;
}

function viewComponent(view: ViewName): ObservationComponent {
  return { code: { coding: [FINDING.radiographicView] }, valueCodeableConcept: { coding: [{ system: SYSTEMS.kneeTumor, code: view }], text: VIEW_WORDS[view] } };
}

function interpretation(positive: boolean): CodeableConcept[] {
  return [{ coding: [positive ? INTERPRETATION.positive : INTERPRETATION.negative] }];
}

/** A finding withheld because a view is outside the model's validated domain. */
const WITHHELD: CodeableConcept[] = [{ coding: [INTERPRETATION.indeterminate, FINDING.outsideDomain], text: FINDING.outsideDomain.display }];

/** The view's domain distance against the model's limit, and which side of it the view lies. */
function domainComponent(domain: DomainCheck): ObservationComponent {
  return {
    code: { coding: [FINDING.domainDistance] },
    valueQuantity: { value: round(domain.distance, 2), unit: 'distance', system: SYSTEMS.ucum, code: '1' },
    referenceRange: [{ high: { value: round(domain.threshold, 2), unit: 'distance', system: SYSTEMS.ucum, code: '1' }, text: 'The model\'s validated domain' }],
    interpretation: [{ coding: [domain.outside ? FINDING.outsideDomain : FINDING.insideDomain] }],
  };
}

/** The strongest box over the views inside the validated domain, which the conclusion speaks about. */
function topLesion(result: AnalysisResult): TopLesion | undefined {
  let best: TopLesion | undefined;
  for (const view of result.views.filter((v) => !v.domain?.outside)) {
    for (const box of view.boxes) if (!best || box.confidence > best.confidence) best = { view: view.view, ...box };
  }
  return best;
}

/**
 * The report's conclusion in plain words: a demonstration model says so first, then the finding
 * with side, view and confidence against the threshold, then what those numbers mean.
 */
export function conclusionText(result: AnalysisResult): string {
  const outsideDomain = outsideDomainViews(result.views);
  const finding = findingSentence({
    positive: result.patient.positive,
    laterality: studyLaterality(result),
    operatingThreshold: result.operatingThreshold,
    score: result.patient.score,
    top: topLesion(result),
    outsideDomain,
    abstained: result.patient.abstained,
  });
  return [
    isDemonstrationModel(result.model) ? DEMONSTRATION_MODEL_NOTICE : undefined,
    finding,
    outsideDomain.length > 0 ? OUTSIDE_DOMAIN_MEANING : undefined,
    result.patient.abstained ? undefined : CONFIDENCE_MEANING,
  ]
    .filter(Boolean)
    .join(' ');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The human-readable report: the finding, the AI notice and the model that made it. */
function narrative(result: AnalysisResult): string {
  const { model } = result;
  const lines = [conclusionText(result), result.notice, `Model: ${model.name} ${model.version} (intended use: ${model.intendedUse}; trained on ${model.trainingData} images).`];
  return `<div xmlns="http://www.w3.org/1999/xhtml">${lines.map((l) => `<p>${escapeXml(l)}</p>`).join('')}</div>`;
}

/** What every resource of one analysis shares: its key, times, subject, study and model Device. */
interface Shared {
  key: string;
  issued: string;
  effective: string;
  laterality?: Laterality;
  intendedUse: Extension;
  deviceRef: Reference;
  studyRef: Reference;
  subject: Reference;
}

function sharedOf(result: AnalysisResult, study: FhirStudyRecord): Shared {
  const key = analysisKey(result.studyInstanceUid, result.model);
  return {
    key,
    issued: result.analysedAt,
    effective: study.started ?? result.analysedAt,
    laterality: studyLaterality(result),
    intendedUse: { url: MODEL_INTENDED_USE_EXTENSION, valueCode: result.model.intendedUse },
    deviceRef: { reference: fullUrlFor(`${key}/device`), display: `${result.model.name} ${result.model.version}` },
    studyRef: { reference: study.imagingStudy },
    subject: { reference: study.patient },
  };
}

function meta(profile: string): Observation['meta'] {
  return { profile: [profile], security: [AI_ASSERTED] };
}

function deviceEntry(result: AnalysisResult, shared: Shared): Entry {
  const modelIdentifier = `${result.model.name}/${result.model.version}/${result.model.manifestSha256}`;
  const device: Device = {
    resourceType: 'Device',
    meta: meta(PROFILES.device),
    extension: [shared.intendedUse],
    identifier: [{ system: SYSTEMS.modelId, value: modelIdentifier }],
    status: 'active',
    deviceName: [{ name: result.model.name, type: 'model-name' }],
    type: { coding: [FINDING.algorithmName], text: 'AI algorithm' },
    version: [
      { type: { coding: [FINDING.algorithmVersion] }, value: result.model.version },
      { type: { text: 'manifest sha256' }, value: result.model.manifestSha256 },
    ],
  };
  return conditionalCreate(shared.deviceRef.reference ?? '', device, SYSTEMS.modelId, modelIdentifier);
}

function observationEntry(shared: Shared, id: string, fields: Omit<Observation, 'resourceType' | 'status' | 'subject'>): { url: string; entry: Entry } {
  const value = `${shared.key}/${id}`;
  const url = fullUrlFor(value);
  const resource: Observation = {
    resourceType: 'Observation',
    meta: meta(PROFILES.observation),
    identifier: [{ system: SYSTEMS.findingId, value }],
    status: 'preliminary',
    category: [{ coding: [{ system: SYSTEMS.observationCategory, code: 'imaging', display: 'Imaging' }] }],
    subject: shared.subject,
    effectiveDateTime: shared.effective,
    issued: shared.issued,
    device: shared.deviceRef,
    bodySite: bodySite(shared.laterality),
    derivedFrom: [shared.studyRef],
    ...fields,
  };
  return { url, entry: conditionalCreate(url, resource, SYSTEMS.findingId, value) };
}

function lesionEntries(shared: Shared, view: ViewFinding): Entry[] {
  return view.boxes.map(
    (box, index) =>
      observationEntry(shared, `lesion/${view.view}/${index + 1}`, {
        code: { coding: [FINDING.lesion] },
        bodySite: bodySite(view.laterality ?? shared.laterality),
        valueQuantity: score(box.confidence),
        component: [
          viewComponent(view.view),
          { code: { coding: [FINDING.imageRegion] }, valueString: `urn:oid:${view.instance.sopInstanceUid}` },
          { code: { coding: [FINDING.boxX] }, valueQuantity: pixels(box.x) },
          { code: { coding: [FINDING.boxY] }, valueQuantity: pixels(box.y) },
          { code: { coding: [FINDING.boxWidth] }, valueQuantity: pixels(box.width) },
          { code: { coding: [FINDING.boxHeight] }, valueQuantity: pixels(box.height) },
          {
            code: { coding: [FINDING.foldsAgreeing] },
            valueRatio: { numerator: { value: box.foldsAgreeing }, denominator: { value: box.foldCount } },
          },
        ],
      }).entry,
  );
}

function viewEntry(shared: Shared, view: ViewFinding, lesions: Entry[]): Entry {
  return observationEntry(shared, `view/${view.view}`, {
    code: { coding: [FINDING.view] },
    bodySite: bodySite(view.laterality ?? shared.laterality),
    valueQuantity: score(view.score),
    interpretation: view.domain?.outside ? WITHHELD : interpretation(view.positive),
    derivedFrom: [{ ...shared.studyRef, display: `${VIEW_WORDS[view.view]} view, SOP Instance ${view.instance.sopInstanceUid}` }],
    component: [
      viewComponent(view.view),
      { code: { coding: [FINDING.imageRegion] }, valueString: `urn:oid:${view.instance.sopInstanceUid}` },
      ...(view.domain ? [domainComponent(view.domain)] : []),
    ],
    hasMember: lesions.map((lesion) => ({ reference: lesion.fullUrl ?? '' })),
  }).entry;
}

function patientEntry(result: AnalysisResult, shared: Shared, views: Entry[]): Entry {
  return observationEntry(shared, 'patient', {
    code: { coding: [FINDING.patient] },
    valueQuantity: score(result.patient.score),
    interpretation: result.patient.abstained ? WITHHELD : interpretation(result.patient.positive),
    component: [{ code: { coding: [FINDING.threshold] }, valueQuantity: score(result.operatingThreshold) }],
    hasMember: views.map((view) => ({ reference: view.fullUrl ?? '' })),
  }).entry;
}

function reportEntry(result: AnalysisResult, shared: Shared, observations: Entry[]): Entry {
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    meta: meta(PROFILES.report),
    extension: [{ url: AI_DEVICE_EXTENSION, valueReference: shared.deviceRef }, shared.intendedUse],
    identifier: [{ system: SYSTEMS.analysisId, value: shared.key }],
    status: 'preliminary',
    category: [{ coding: [{ system: SYSTEMS.v2_0074, code: 'RAD', display: 'Radiology' }] }],
    code: { coding: [REPORT_CODES[shared.laterality ?? 'unspecified']] },
    subject: shared.subject,
    effectiveDateTime: shared.effective,
    issued: shared.issued,
    imagingStudy: [shared.studyRef],
    result: observations.map((o) => ({ reference: o.fullUrl ?? '' })),
    text: { status: 'generated', div: narrative(result) },
    conclusion: conclusionText(result),
    ...(result.patient.positive ? { conclusionCode: [{ coding: [NEOPLASM_OF_BONE] }] } : {}),
  };
  return conditionalCreate(fullUrlFor(`${shared.key}/report`), report, SYSTEMS.analysisId, shared.key);
}

function provenanceEntry(shared: Shared, targets: Entry[]): Entry {
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { tag: [{ system: SYSTEMS.analysisId, code: shared.key }] },
    target: targets.map((e) => ({ reference: e.fullUrl ?? '' })),
    recorded: shared.issued,
    activity: { coding: [{ system: SYSTEMS.dataOperation, code: 'CREATE', display: 'create' }] },
    agent: [{ type: { coding: [{ system: SYSTEMS.provenanceParticipant, code: 'author', display: 'Author' }] }, who: shared.deviceRef }],
    entity: [{ role: 'source', what: shared.studyRef }],
  };
  // Provenance has no identifier element: the analysis key goes in a meta tag, which the conditional create searches.
  const ifNoneExist = `_tag=${encodeURIComponent(SYSTEMS.analysisId)}|${encodeURIComponent(shared.key)}`;
  return { fullUrl: fullUrlFor(`${shared.key}/provenance`), resource: provenance, request: { method: 'POST', url: 'Provenance', ifNoneExist } };
}

/** The Device, the patient, view and lesion Observations, the DiagnosticReport, then the Provenance of them all. */
export function toFhirTransaction(result: AnalysisResult, study: FhirStudyRecord): Bundle<FhirResource> {
  const shared = sharedOf(result, study);
  const lesionsByView = result.views.map((view) => lesionEntries(shared, view));
  const views = result.views.map((view, i) => viewEntry(shared, view, lesionsByView[i] ?? []));
  const lesions = lesionsByView.flat();
  const patient = patientEntry(result, shared, views);
  const report = reportEntry(result, shared, [patient, ...views, ...lesions]);
  const entries = [deviceEntry(result, shared), patient, ...views, ...lesions, report];
  return { resourceType: 'Bundle', type: 'transaction', entry: [...entries, provenanceEntry(shared, entries)] };
}
