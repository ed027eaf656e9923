/**
 * The rules of our profiles in fhir-profiles/ (knee-tumor-report, knee-tumor-observation,
 * knee-tumor-device), checked in code because no FHIR profile validator runs offline in Node.
 * Each rule mirrors a constraint of the StructureDefinition it names; the examples in
 * fhir-profiles/ must pass and the tests break each rule once.
 */
import type { Coding, Device, DiagnosticReport, FhirResource, Meta, Observation } from 'fhir/r4';
import { AI_ASSERTED, AI_DEVICE_EXTENSION, FINDING, KNEE_REGION, NEOPLASM_OF_BONE, PROFILES, REPORT_CODES, SYSTEMS } from '../../../fhir-profiles/codes';
import { modelIntendedUse } from '../../../fhir-profiles/read-report';

function hasCoding(codings: Coding[] | undefined, wanted: Coding): boolean {
  return (codings ?? []).some((c) => c.system === wanted.system && c.code === wanted.code);
}

function metaProblems(meta: Meta | undefined, profile: string): string[] {
  const problems: string[] = [];
  if (!meta?.profile?.includes(profile)) problems.push(`meta.profile must include ${profile}`);
  if (!hasCoding(meta?.security, AI_ASSERTED)) problems.push('meta.security must carry AIAST (AI asserted)');
  return problems;
}

const INTENDED_USE_REQUIRED = 'the ai-model-intended-use extension (demonstration or clinical-evaluation) is required';

function reportProblems(report: DiagnosticReport): string[] {
  const problems = metaProblems(report.meta, PROFILES.report);
  if (report.status !== 'preliminary') problems.push('status must be preliminary: a clinician has not reviewed it');
  if (!report.category?.some((c) => hasCoding(c.coding, { system: SYSTEMS.v2_0074, code: 'RAD' }))) problems.push('category must be RAD');
  if (!Object.values(REPORT_CODES).some((code) => hasCoding(report.code.coding, code))) problems.push('code must be a LOINC XR Knee 2 Views code');
  if (!report.subject?.reference) problems.push('subject is required');
  if (!report.imagingStudy?.length) problems.push('imagingStudy is required');
  if (!report.identifier?.some((i) => i.system === SYSTEMS.analysisId && i.value)) problems.push('identifier of the analysis is required');
  if (!report.issued || !report.effectiveDateTime) problems.push('issued and effectiveDateTime are required');
  if (!report.result?.length) problems.push('result must reference the Observations');
  if (!report.conclusion) problems.push('conclusion is required');
  if (report.conclusionCode && !report.conclusionCode.every((c) => hasCoding(c.coding, NEOPLASM_OF_BONE))) {
    problems.push('conclusionCode may only be SNOMED CT 126537000');
  }
  if (!report.extension?.some((e) => e.url === AI_DEVICE_EXTENSION && e.valueReference?.reference)) problems.push('the ai-device extension is required');
  if (!modelIntendedUse(report)) problems.push(INTENDED_USE_REQUIRED);
  return problems;
}

const BOX_COMPONENTS = [FINDING.imageRegion, FINDING.boxX, FINDING.boxY, FINDING.boxWidth, FINDING.boxHeight, FINDING.foldsAgreeing];

function observationProblems(observation: Observation): string[] {
  const problems = metaProblems(observation.meta, PROFILES.observation);
  if (observation.status !== 'preliminary') problems.push('status must be preliminary');
  if (!observation.identifier?.some((i) => i.system === SYSTEMS.findingId && i.value)) problems.push('identifier of the finding is required');
  if (!observation.subject?.reference) problems.push('subject is required');
  if (!observation.device?.reference) problems.push('device is required');
  if (!hasCoding(observation.bodySite?.coding, KNEE_REGION)) problems.push('bodySite must be the knee region (SNOMED CT 72696002)');
  if (!observation.derivedFrom?.length) problems.push('derivedFrom the ImagingStudy is required');
  const kind = [FINDING.patient, FINDING.view, FINDING.lesion].find((code) => hasCoding(observation.code.coding, code));
  if (!kind) problems.push('code must be patient-finding, view-finding or lesion-box');
  if (observation.valueQuantity?.value === undefined) problems.push('valueQuantity (the score) is required');
  if (kind === FINDING.lesion) {
    for (const code of BOX_COMPONENTS) {
      if (!observation.component?.some((c) => hasCoding(c.code.coding, code))) problems.push(`component ${code.code} is required on a lesion box`);
    }
  } else if (kind && !observation.interpretation?.length) {
    problems.push('interpretation (the decision) is required');
  }
  return problems;
}

function deviceProblems(device: Device): string[] {
  const problems = metaProblems(device.meta, PROFILES.device);
  if (!device.identifier?.some((i) => i.system === SYSTEMS.modelId && i.value)) problems.push('identifier of the model is required');
  if (!device.deviceName?.some((n) => n.type === 'model-name')) problems.push('deviceName of type model-name is required');
  if (!device.version?.some((v) => hasCoding(v.type?.coding, FINDING.algorithmVersion) && v.value)) problems.push('version with DCM 111003 is required');
  if (!modelIntendedUse(device)) problems.push(INTENDED_USE_REQUIRED);
  return problems;
}

/** The problems of a resource against the profile it claims or must claim; others pass. */
export function profileProblems(resource: FhirResource): string[] {
  const label = (problems: string[]) => problems.map((p) => `${resource.resourceType}: ${p}`);
  switch (resource.resourceType) {
    case 'DiagnosticReport':
      return label(reportProblems(resource));
    case 'Observation':
      return label(observationProblems(resource));
    case 'Device':
      return label(deviceProblems(resource));
    default:
      return [];
  }
}
