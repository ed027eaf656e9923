/**
 * Code systems, codes and identifier systems of our FHIR output, named once so that the builder,
 * the profiles' checks and the CDS cards agree on them.
 */
import type { Coding } from 'fhir/r4';

/** Canonical base of our profiles and of our own code system. */
export const CANONICAL_BASE = 'https://knee-tumor.example.org/fhir';

export const PROFILES = {
  report: `${CANONICAL_BASE}/StructureDefinition/knee-tumor-report`,
  observation: `${CANONICAL_BASE}/StructureDefinition/knee-tumor-observation`,
  device: `${CANONICAL_BASE}/StructureDefinition/knee-tumor-device`,
} as const;

export const LATERALITY_EXTENSION = `${CANONICAL_BASE}/StructureDefinition/body-site-laterality`;
/** R4 DiagnosticReport.performer cannot reference a Device, so the model is named by extension. */
export const AI_DEVICE_EXTENSION = `${CANONICAL_BASE}/StructureDefinition/ai-device`;
/**
 * The model's intended use (its manifest's intendedUse: demonstration | clinical-evaluation) on
 * the report and the Device: the cards and the viewer decide how to show a result from it.
 */
export const MODEL_INTENDED_USE_EXTENSION = `${CANONICAL_BASE}/StructureDefinition/ai-model-intended-use`;

export const SYSTEMS = {
  loinc: 'http://loinc.org',
  snomed: 'http://snomed.info/sct',
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  v2_0074: 'http://terminology.hl7.org/CodeSystem/v2-0074',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  securityObservationValue: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  provenanceParticipant: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
  dataOperation: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
  ucum: 'http://unitsofmeasure.org',
  dicomUid: 'urn:dicom:uid',
  /** Our code system: what the method measures, where DICOM and LOINC have no code. */
  kneeTumor: `${CANONICAL_BASE}/CodeSystem/knee-tumor`,
  /** Identifier of one analysis: StudyInstanceUID / model name / model version. */
  analysisId: `${CANONICAL_BASE}/identifier/analysis`,
  /** Identifier of one Observation within an analysis. */
  findingId: `${CANONICAL_BASE}/identifier/finding`,
  /** Identifier of a model: name / version / manifest sha256. */
  modelId: `${CANONICAL_BASE}/identifier/model`,
} as const;

export const AI_ASSERTED: Coding = {
  system: SYSTEMS.securityObservationValue,
  code: 'AIAST',
  display: 'Artificial Intelligence asserted',
};

export const REPORT_CODES = {
  unspecified: { system: SYSTEMS.loinc, code: '24806-2', display: 'XR Knee 2 Views' },
  L: { system: SYSTEMS.loinc, code: '26395-4', display: 'XR Knee - left 2 Views' },
  R: { system: SYSTEMS.loinc, code: '26396-2', display: 'XR Knee - right 2 Views' },
  B: { system: SYSTEMS.loinc, code: '26394-7', display: 'XR Knee - bilateral 2 Views' },
} as const satisfies Record<string, Coding>;

export const NEOPLASM_OF_BONE: Coding = { system: SYSTEMS.snomed, code: '126537000', display: 'Neoplasm of bone' };
export const KNEE_REGION: Coding = { system: SYSTEMS.snomed, code: '72696002', display: 'Knee region structure' };
export const LATERALITY: Record<'L' | 'R', Coding> = {
  L: { system: SYSTEMS.snomed, code: '7771000', display: 'Left' },
  R: { system: SYSTEMS.snomed, code: '24028007', display: 'Right' },
};

/** Codes of our code system; each names one thing the method reports. */
export const FINDING = {
  patient: { system: SYSTEMS.kneeTumor, code: 'patient-finding', display: 'Bone tumor AI finding, patient level' },
  view: { system: SYSTEMS.kneeTumor, code: 'view-finding', display: 'Bone tumor AI finding, one radiographic view' },
  lesion: { system: SYSTEMS.kneeTumor, code: 'lesion-box', display: 'Suspected bone lesion, bounding box' },
  radiographicView: { system: SYSTEMS.kneeTumor, code: 'radiographic-view', display: 'Radiographic view' },
  threshold: { system: SYSTEMS.kneeTumor, code: 'operating-threshold', display: 'Operating threshold' },
  boxX: { system: SYSTEMS.kneeTumor, code: 'box-x', display: 'Box left edge (image column)' },
  boxY: { system: SYSTEMS.kneeTumor, code: 'box-y', display: 'Box top edge (image row)' },
  boxWidth: { system: SYSTEMS.kneeTumor, code: 'box-width', display: 'Box width' },
  boxHeight: { system: SYSTEMS.kneeTumor, code: 'box-height', display: 'Box height' },
  foldsAgreeing: { system: SYSTEMS.kneeTumor, code: 'folds-agreeing', display: 'Ensemble models agreeing' },
  /** A view's distance from the images the model was validated on; referenceRange.high is the model's limit. */
  domainDistance: { system: SYSTEMS.kneeTumor, code: 'domain-distance', display: 'Distance from the model\'s validated domain' },
  /** Interpretation of a view beyond that limit (its finding is withheld) and of a patient result withheld for it. */
  outsideDomain: { system: SYSTEMS.kneeTumor, code: 'outside-validated-domain', display: 'Outside the model\'s validated domain' },
  insideDomain: { system: SYSTEMS.kneeTumor, code: 'inside-validated-domain', display: 'Inside the model\'s validated domain' },
  imageRegion: { system: SYSTEMS.dicom, code: '111030', display: 'Image Region' },
  algorithmName: { system: SYSTEMS.dicom, code: '111001', display: 'Algorithm Name' },
  algorithmVersion: { system: SYSTEMS.dicom, code: '111003', display: 'Algorithm Version' },
} as const satisfies Record<string, Coding>;

/** What our CDS cards are about, as their `source.topic`: an EHR can group, filter or count them by it. */
export const CARD_TOPIC = { system: SYSTEMS.kneeTumor, code: 'bone-tumor-ai', display: 'Bone tumor AI second reading of knee radiographs' } as const satisfies Coding;

export const INTERPRETATION = {
  positive: { system: SYSTEMS.interpretation, code: 'POS', display: 'Positive' },
  negative: { system: SYSTEMS.interpretation, code: 'NEG', display: 'Negative' },
  /** No finding: the view (or every view that could decide) is outside the model's validated domain. */
  indeterminate: { system: SYSTEMS.interpretation, code: 'IND', display: 'Indeterminate' },
} as const satisfies Record<string, Coding>;

/** The StudyInstanceUID as FHIR writes a DICOM UID in an identifier. */
export function studyIdentifierValue(studyInstanceUid: string): string {
  return `urn:oid:${studyInstanceUid}`;
}

/** The key of one analysis: the same study analysed by the same model version is one result. */
export function analysisKey(studyInstanceUid: string, model: { name: string; version: string }): string {
  return `${studyInstanceUid}/${model.name}/${model.version}`;
}
