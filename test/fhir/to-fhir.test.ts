import type { Bundle, DiagnosticReport, FhirResource, Observation } from 'fhir/r4';
import { toFhirTransaction } from '../../server/src/results/fhir/to-fhir';
import { assertValidBundle, validationProblems } from '../../server/src/fhir/validate';
import { FINDING, SYSTEMS, analysisKey } from '../../fhir-profiles/codes';
import { DEMONSTRATION_MODEL_NOTICE } from '../../server/src/domain/analysis';
import { DEMONSTRATION_MODEL, sampleAnalysis } from '../support/analysis-fixture';

const study = { patient: 'Patient/p1', imagingStudy: 'ImagingStudy/s1', started: '2026-11-25T09:00:00Z' };

function resources<T extends FhirResource>(bundle: Bundle<FhirResource>, type: T['resourceType']): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
}

describe('toFhirTransaction', () => {
  it('builds a valid transaction: report, patient/view/lesion observations, device, provenance', () => {
    const bundle = toFhirTransaction(sampleAnalysis(), study);
    expect(() => assertValidBundle(bundle)).not.toThrow();
    for (const entry of bundle.entry ?? []) expect(entry.resource && validationProblems(entry.resource)).toEqual([]);
    expect((bundle.entry ?? []).map((e) => e.resource?.resourceType)).toEqual([
      'Device', 'Observation', 'Observation', 'Observation', 'Observation', 'DiagnosticReport', 'Provenance',
    ]);
    const provenance = (bundle.entry ?? []).at(-1);
    expect(provenance?.request?.ifNoneExist).toMatch(/^_tag=/);
    const analysis = sampleAnalysis();
    expect(provenance?.resource?.meta?.tag).toEqual([{ system: SYSTEMS.analysisId, code: analysisKey(analysis.studyInstanceUid, analysis.model) }]);
    for (const entry of (bundle.entry ?? []).slice(0, -1)) expect(entry.request?.ifNoneExist).toMatch(/^identifier=/);
  });

  it('marks the report AI-asserted, preliminary, left-knee LOINC, neoplasm of bone, and names the model version', () => {
    const [report] = resources<DiagnosticReport>(toFhirTransaction(sampleAnalysis(), study), 'DiagnosticReport');
    expect(report?.meta?.security).toEqual([expect.objectContaining({ code: 'AIAST' })]);
    expect(report?.status).toBe('preliminary');
    expect(report?.code.coding?.[0]?.code).toBe('26395-4');
    expect(report?.conclusionCode?.[0]?.coding?.[0]?.code).toBe('126537000');
    expect(report?.conclusion).toMatch(
      /^Possible bone tumor on the left knee: the AI's confidence 0\.93 on the lateral view is at or above the operating threshold 0\.50 \(4 of 5 models agree\)\. The confidence is the AI's score, not a probability of cancer; /,
    );
    expect(report?.identifier?.[0]).toEqual({ system: SYSTEMS.analysisId, value: `${sampleAnalysis().studyInstanceUid}/knee-tumor/1.0.0` });
    expect(report?.text?.div).toContain('knee-tumor 1.0.0');
    expect(report?.imagingStudy).toEqual([{ reference: 'ImagingStudy/s1' }]);
    expect(report?.effectiveDateTime).toBe('2026-11-25T09:00:00Z');
  });

  it('puts the lesion box in image pixels with its SOP instance, confidence and fold agreement', () => {
    const lesion = resources<Observation>(toFhirTransaction(sampleAnalysis(), study), 'Observation').find((o) =>
      o.code.coding?.some((c) => c.code === FINDING.lesion.code),
    );
    const component = (code: string) => lesion?.component?.find((c) => c.code.coding?.[0]?.code === code);
    expect(lesion?.valueQuantity?.value).toBe(0.93);
    expect(component('box-x')?.valueQuantity).toMatchObject({ value: 212.5, code: '{pixel}' });
    expect(component('box-height')?.valueQuantity?.value).toBe(64.3);
    expect(component('111030')?.valueString).toBe(`urn:oid:${sampleAnalysis().views[1]?.instance.sopInstanceUid}`);
    expect(component('folds-agreeing')?.valueRatio).toEqual({ numerator: { value: 4 }, denominator: { value: 5 } });
    expect(lesion?.bodySite?.coding?.[0]?.code).toBe('72696002');
    expect(lesion?.bodySite?.extension?.[0]?.valueCodeableConcept?.coding?.[0]?.code).toBe('7771000');
  });

  it('says no tumor detected, with no conclusionCode, when negative', () => {
    const [report] = resources<DiagnosticReport>(toFhirTransaction(sampleAnalysis({ positive: false }), study), 'DiagnosticReport');
    expect(report?.conclusion).toMatch(/^No bone tumor detected by the AI on the left knee radiographs: the highest confidence over both views, 0\.12, is below the operating threshold 0\.50\. /);
    expect(report?.conclusionCode).toBeUndefined();
  });

  it('says first, in the conclusion and the narrative, that a demonstration model\'s findings are not meaningful', () => {
    for (const positive of [true, false]) {
      const [report] = resources<DiagnosticReport>(toFhirTransaction(sampleAnalysis({ positive, model: DEMONSTRATION_MODEL }), study), 'DiagnosticReport');
      expect(report?.conclusion?.startsWith(`${DEMONSTRATION_MODEL_NOTICE} ${positive ? 'Possible bone tumor' : 'No bone tumor'}`)).toBe(true);
      expect(report?.text?.div).toContain('trained on synthetic images');
    }
    const [clinical] = resources<DiagnosticReport>(toFhirTransaction(sampleAnalysis(), study), 'DiagnosticReport');
    expect(clinical?.conclusion).not.toMatch(/synthetic/);
  });

  it('is pure: the same analysis gives the same bundle', () => {
    expect(toFhirTransaction(sampleAnalysis(), study)).toEqual(toFhirTransaction(sampleAnalysis(), study));
  });

  it('refuses a bundle that breaks the base spec or a profile rule', () => {
    const bundle = toFhirTransaction(sampleAnalysis(), study);
    const report = resources<DiagnosticReport>(bundle, 'DiagnosticReport')[0] as DiagnosticReport;
    report.meta = { ...report.meta, security: [] };
    (report as { status: string }).status = 'draft';
    expect(() => assertValidBundle(bundle)).toThrow(/AIAST[\s\S]*status must be preliminary/);
    expect(validationProblems({ ...report, performer: [{ reference: 'Device/1' }] }).join()).toMatch(/performer/);
  });
});
