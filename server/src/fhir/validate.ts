/**
 * Checks what we are about to write: the base R4 specification (the `fhir` package: cardinality,
 * types, required bindings, reference targets, unknown properties) and then our profiles' rules
 * (profile-rules.ts). Nothing leaves the service that fails either.
 */
import { Fhir } from 'fhir';
import type { Bundle, FhirResource } from 'fhir/r4';
import { KneeTumorError } from '../errors';
import { profileProblems } from './profile-rules';

let validator: Fhir | undefined;

/** Problems with a resource as "path: message" strings; empty when it is valid. */
export function validationProblems(resource: FhirResource): string[] {
  validator ??= new Fhir();
  const { messages } = validator.validate(resource);
  const base = messages
    // SNOMED CT and LOINC are example/extensible bindings the package cannot expand: only its
    // errors and the properties it does not know are real problems.
    .filter((m) => m.severity === 'error' || m.severity === 'fatal' || m.message === 'Unexpected property')
    .map((m) => `${m.location ?? resource.resourceType}: ${m.message ?? 'invalid'}`);
  return [...base, ...profileProblems(resource)];
}

/** Throws fhir-invalid listing every problem of every entry of the bundle. */
export function assertValidBundle(bundle: Bundle<FhirResource>): void {
  const problems = [
    ...validationProblems(bundle),
    ...(bundle.entry ?? []).flatMap((entry, index) => (entry.resource ? profileProblems(entry.resource).map((p) => `entry[${index}] ${p}`) : [])),
  ];
  if (problems.length > 0) throw new KneeTumorError('fhir-invalid', `the FHIR output is invalid: ${problems.join('; ')}`);
}
