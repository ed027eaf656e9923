/**
 * A view outside the model's validated domain, from the decision to the card: it is never
 * positive, the patient result is withheld (whatever the other view shows), the FHIR report records
 * the distance and says why, and the CDS card (read back from that FHIR, as the service does)
 * raises no warning and says why in plain words. A clinical-evaluation model, so that a warning
 * would otherwise be raised.
 */
import type { DiagnosticReport, FhirResource, Observation } from 'fhir/r4';
import { resultCard } from '../../cds-hooks/cards';
import { FINDING, INTERPRETATION } from '../../fhir-profiles/codes';
import { readReport } from '../../fhir-profiles/read-report';
import type { AnalysisResult, DomainCheck, ViewFinding, ViewName } from '../../server/src/domain/analysis';
import { OUTSIDE_DOMAIN_MEANING } from '../../server/src/domain/wording';
import { profileProblems } from '../../server/src/fhir/profile-rules';
import { assertValidBundle } from '../../server/src/fhir/validate';
import { decidePatient, decideView } from '../../server/src/pipeline/decide';
import { toFhirTransaction } from '../../server/src/results/fhir/to-fhir';
import { sampleAnalysis } from '../support/analysis-fixture';

const THRESHOLD = 14.2;
const inside: DomainCheck = { distance: 6.1, threshold: THRESHOLD, outside: false };
const outside: DomainCheck = { distance: 48.7, threshold: THRESHOLD, outside: true };
const settings = { appLaunchUrl: 'https://viewer.example/launch', modelCardUrl: 'https://example/model-card', currentStudyDays: 30 };

/** The fixture (a 0.93 box on the lateral view, or on both views) decided again with the given domain checks. */
function analysed(domains: Record<ViewName, DomainCheck>, boxOnBothViews = false): AnalysisResult {
  const base = sampleAnalysis();
  const box = base.views[1]?.boxes[0];
  const views: ViewFinding[] = base.views.map((v) =>
    decideView(
      { view: v.view, instance: v.instance, laterality: v.laterality, imageSize: v.imageSize, boxes: boxOnBothViews && box ? [box] : v.boxes, domain: domains[v.view] },
      base.operatingThreshold,
    ),
  );
  return { ...base, views, patient: decidePatient(views) };
}

/** The bundle as a FHIR server stores it, read back with the cards' and the viewer's reader. */
function stored(result: AnalysisResult) {
  const bundle = toFhirTransaction(result, { patient: 'Patient/p', imagingStudy: 'ImagingStudy/s', started: new Date().toISOString() });
  assertValidBundle(bundle);
  const entries = bundle.entry ?? [];
  const ids = new Map(entries.map((e, i) => [e.fullUrl, `${e.resource?.resourceType}/r${i}`]));
  const resources = entries.map((e, i) => ({ ...e.resource, id: `r${i}` }) as FhirResource);
  for (const resource of resources) expect(profileProblems(resource)).toEqual([]);
  const report = resources.find((r) => r.resourceType === 'DiagnosticReport') as DiagnosticReport;
  report.result = (report.result ?? []).map((r) => ({ reference: ids.get(r.reference) }));
  const observations = resources.filter((r): r is Observation => r.resourceType === 'Observation');
  return { report, observations, reading: readReport(report, observations) };
}

const hasCoding = (concepts: Observation['interpretation'], code: { system: string; code: string }) =>
  concepts?.some((c) => c.coding?.some((x) => x.system === code.system && x.code === code.code)) ?? false;

it('a positive view outside the domain makes no positive: the result is withheld and the card does not warn', () => {
  const result = analysed({ AP: inside, LATERAL: outside });
  expect(result.views.map((v) => v.positive)).toEqual([false, false]);
  // The box and the score stay on record.
  expect(result.views[1]?.score).toBeCloseTo(0.93);
  expect(result.patient).toMatchObject({ positive: false, abstained: true });

  const { report, observations, reading } = stored(result);
  expect(report.conclusionCode).toBeUndefined();
  expect(report.conclusion).toContain("No AI result for the left knee radiographs: the lateral view is outside the model's validated domain");
  expect(report.conclusion).toContain(OUTSIDE_DOMAIN_MEANING);
  expect(report.text?.div).toContain("outside the model's validated domain");

  const patient = observations.find((o) => o.code.coding?.some((c) => c.code === FINDING.patient.code));
  expect(hasCoding(patient?.interpretation, INTERPRETATION.indeterminate)).toBe(true);
  expect(hasCoding(patient?.interpretation, FINDING.outsideDomain)).toBe(true);
  const lateral = observations.find((o) => o.code.coding?.some((c) => c.code === FINDING.view.code) && o.identifier?.[0]?.value?.endsWith('/view/LATERAL'));
  const distance = lateral?.component?.find((c) => c.code.coding?.some((x) => x.code === FINDING.domainDistance.code));
  expect(distance?.valueQuantity?.value).toBe(48.7);
  expect(distance?.referenceRange?.[0]?.high?.value).toBe(THRESHOLD);
  expect(hasCoding(distance?.interpretation, FINDING.outsideDomain)).toBe(true);
  expect(hasCoding(lateral?.interpretation, INTERPRETATION.positive)).toBe(false);

  expect(reading).toMatchObject({ positive: false, abstained: true, outsideDomain: ['LATERAL'] });
  expect(reading.views.AP?.domain).toEqual({ distance: 6.1, threshold: THRESHOLD, outside: false });
  const card = resultCard(settings, { studyInstanceUid: result.studyInstanceUid }, { reading, recency: 'current' });
  expect(card.indicator).toBe('info');
  expect(card.summary).toMatch(/^No AI result for the left knee radiographs of \d{4}-\d{2}-\d{2}: unlike the images the AI was validated on$/);
  expect(card.detail).toContain("The lateral view is outside the model's validated domain (unlike the images it was validated on): no finding from it.");
  expect(card.detail).toContain(OUTSIDE_DOMAIN_MEANING);
  expect(card.detail).toContain('**Next step:** Read the images as usual: the AI gives no result for these radiographs.');
  expect(card.detail).not.toContain('below the operating threshold');
});

it('both views outside: no result, said of both views', () => {
  const result = analysed({ AP: outside, LATERAL: outside });
  expect(result.patient).toMatchObject({ positive: false, abstained: true });
  const { reading } = stored(result);
  expect(reading.conclusion).toContain("the AP and lateral views are outside the model's validated domain");
  const card = resultCard(settings, { studyInstanceUid: result.studyInstanceUid }, { reading, recency: 'current' });
  expect(card.indicator).toBe('info');
  expect(card.detail).toContain("The AP and lateral views are outside the model's validated domain (unlike the images it was validated on): no finding from them.");
});

it('a positive view inside the domain does not warn either when the other view is outside: the study is not assessed', () => {
  const result = analysed({ AP: outside, LATERAL: inside }, true);
  expect(result.views.map((v) => v.positive)).toEqual([false, true]);
  expect(result.patient).toEqual({ score: 0.93, positive: false, abstained: true });
  const { reading } = stored(result);
  expect(reading).toMatchObject({ positive: false, abstained: true, outsideDomain: ['AP'] });
  expect(reading.conclusion).toContain("No AI result for the left knee radiographs: the AP view is outside the model's validated domain");
  const card = resultCard(settings, { studyInstanceUid: result.studyInstanceUid }, { reading, recency: 'current' });
  expect(card.indicator).toBe('info');
  expect(card.detail).toContain("The AP view is outside the model's validated domain");
});

it('a model without domain statistics: views not checked, the result as before', () => {
  const result = sampleAnalysis();
  const { observations, reading } = stored(result);
  expect(observations.some((o) => o.component?.some((c) => c.code.coding?.some((x) => x.code === FINDING.domainDistance.code)))).toBe(false);
  expect(reading).toMatchObject({ positive: true, abstained: false, outsideDomain: [] });
  expect(resultCard(settings, { studyInstanceUid: result.studyInstanceUid }, { reading, recency: 'current' }).indicator).toBe('warning');
});
