/**
 * fhir-profiles/ holds our StructureDefinitions and example transaction bundles. The examples are
 * what the builder makes from the test fixture (so a change of the output shows up as a change of
 * the published examples), they pass the base spec and our rules, and each profile's top-level
 * constraints (min, fixed and pattern values) hold in them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Bundle, ElementDefinition, FhirResource, StructureDefinition } from 'fhir/r4';
import { toFhirTransaction } from '../../server/src/results/fhir/to-fhir';
import { assertValidBundle } from '../../server/src/fhir/validate';
import { profileProblems } from '../../server/src/fhir/profile-rules';
import { MODEL_INTENDED_USE_EXTENSION } from '../../fhir-profiles/codes';
import { DEMONSTRATION_MODEL, sampleAnalysis } from '../support/analysis-fixture';

const dir = path.resolve(__dirname, '../../fhir-profiles');
const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as T;
const study = { patient: 'Patient/example', imagingStudy: 'ImagingStudy/example', started: '2026-11-25T09:00:00Z' };
const examples: Record<string, Bundle<FhirResource>> = {
  'Bundle-positive-left-knee.json': toFhirTransaction(sampleAnalysis(), study),
  'Bundle-negative-left-knee.json': toFhirTransaction(sampleAnalysis({ positive: false }), study),
  'Bundle-positive-left-knee-demonstration-model.json': toFhirTransaction(sampleAnalysis({ model: DEMONSTRATION_MODEL }), study),
};

function includesPattern(actual: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.every((p) => Array.isArray(actual) && actual.some((a) => includesPattern(a, p)));
  if (typeof pattern === 'object' && pattern !== null) {
    return Object.entries(pattern).every(([k, v]) => includesPattern((actual as Record<string, unknown> | undefined)?.[k], v));
  }
  return actual === pattern;
}

/** Checks the elements of a profile that sit directly under the resource. */
function profileViolations(resource: FhirResource, profile: StructureDefinition): string[] {
  const record = resource as unknown as Record<string, unknown>;
  return profile.differential?.element.flatMap((element: ElementDefinition) => {
    const [, field, ...deeper] = element.path.split('.');
    if (!field || deeper.length > 0) return [];
    const key = field.endsWith('[x]') ? Object.keys(record).find((k) => k.startsWith(field.slice(0, -3))) : field;
    const value = key ? record[key] : undefined;
    const problems: string[] = [];
    if ((element.min ?? 0) > 0 && value === undefined) problems.push(`${element.path} is required`);
    if (element.fixedCode !== undefined && value !== element.fixedCode) problems.push(`${element.path} must be ${element.fixedCode}`);
    const pattern = element.patternCodeableConcept;
    if (pattern && value !== undefined && !(Array.isArray(value) ? value : [value]).every((v) => includesPattern(v, pattern))) {
      problems.push(`${element.path} must match its pattern`);
    }
    return problems;
  }) ?? [];
}

describe('fhir-profiles', () => {
  const profiles = readdirSync(dir).filter((f) => f.startsWith('StructureDefinition-')).map((f) => read<StructureDefinition>(f));

  it.each(Object.keys(examples))('%s is what the builder makes, and it is valid', (file) => {
    const example = read<Bundle<FhirResource>>(`examples/${file}`);
    expect(example).toEqual(examples[file]);
    expect(() => assertValidBundle(example)).not.toThrow();
  });

  it.each(Object.keys(examples))('%s meets the constraints of the profiles its resources claim', (file) => {
    const example = read<Bundle<FhirResource>>(`examples/${file}`);
    const claimed = (example.entry ?? []).flatMap((e) => (e.resource?.meta?.profile ?? []).map((url) => ({ resource: e.resource as FhirResource, url })));
    expect(claimed.length).toBeGreaterThan(0);
    for (const { resource, url } of claimed) {
      const profile = profiles.find((p) => p.url === url);
      expect(profile).toBeDefined();
      expect(profileViolations(resource, profile as StructureDefinition)).toEqual([]);
    }
  });

  it('the report and the Device carry the model\'s intended use, and our rules require it', () => {
    for (const [file, intendedUse] of [['Bundle-positive-left-knee.json', 'clinical-evaluation'], ['Bundle-positive-left-knee-demonstration-model.json', 'demonstration']]) {
      const example = read<Bundle<FhirResource>>(`examples/${file}`);
      for (const type of ['DiagnosticReport', 'Device']) {
        const resource = example.entry?.find((e) => e.resource?.resourceType === type)?.resource as FhirResource & { extension?: { url: string; valueCode?: string }[] };
        expect(resource.extension?.filter((e) => e.url === MODEL_INTENDED_USE_EXTENSION)).toEqual([{ url: MODEL_INTENDED_USE_EXTENSION, valueCode: intendedUse }]);
        const without = { ...resource, extension: resource.extension?.filter((e) => e.url !== MODEL_INTENDED_USE_EXTENSION) } as FhirResource;
        expect(profileProblems(without)).toEqual([`${type}: the ai-model-intended-use extension (demonstration or clinical-evaluation) is required`]);
        const unknown = { ...resource, extension: resource.extension?.map((e) => (e.url === MODEL_INTENDED_USE_EXTENSION ? { ...e, valueCode: 'clinical' } : e)) } as FhirResource;
        expect(profileProblems(unknown)).toHaveLength(1);
      }
    }
    const definition = read<StructureDefinition>('StructureDefinition-ai-model-intended-use.json');
    expect(definition.url).toBe(MODEL_INTENDED_USE_EXTENSION);
  });

  it('detects a broken constraint', () => {
    const report = profiles.find((p) => p.id === 'knee-tumor-report') as StructureDefinition;
    const example = read<Bundle<FhirResource>>('examples/Bundle-positive-left-knee.json');
    const resource = example.entry?.find((e) => e.resource?.resourceType === 'DiagnosticReport')?.resource as FhirResource;
    expect(profileViolations({ ...resource, status: 'final', imagingStudy: undefined } as FhirResource, report)).toEqual([
      'DiagnosticReport.status must be preliminary',
      'DiagnosticReport.imagingStudy is required',
    ]);
  });
});
