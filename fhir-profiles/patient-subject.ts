/**
 * Whose is a resource (pure): a resource's `subject` against the patient a caller asked about,
 * so that nothing of another patient is ever shown. A subject matches by reference (relative
 * "Patient/123", absolute "https://ehr/fhir/Patient/123", either with "/_history/n"), or, when it
 * is given only as an identifier, by the patient's identifiers. Anything else does not match.
 */
import type { Identifier, Reference } from 'fhir/r4';

/** The patient resources must belong to; `identifiers` only once the Patient has been read. */
export interface PatientIdentity {
  id: string;
  identifiers?: Identifier[];
}

/** Why a resource is not the patient's, as a code safe to log. */
export type SubjectMismatch =
  | 'other-patient'
  /** An absolute reference to a Patient on another FHIR server than the one the hook named. */
  | 'other-server'
  | 'subject-not-a-patient'
  | 'no-subject'
  /** A contained, urn: or conditional reference, with no identifier to match instead. */
  | 'subject-unresolvable'
  /** Given by identifier only, and the patient's identifiers are not known. */
  | 'subject-identifier-unverified';

export type SubjectVerdict = 'same-patient' | SubjectMismatch;

/** FHIR ids: [A-Za-z0-9\-.]{1,64}; an optional base before, an optional version after. */
const LITERAL_REFERENCE = /^(?:(https?:\/\/.+)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export interface LiteralReference {
  /** The server base of an absolute reference, without a trailing slash. */
  base?: string;
  type: string;
  id: string;
}

/** "Type/id" parts of a literal reference; undefined for contained (#x), urn: and conditional ones. */
export function parseReference(reference: string | undefined): LiteralReference | undefined {
  const match = LITERAL_REFERENCE.exec(reference ?? '');
  if (!match?.[2] || !match[3]) return undefined;
  return { ...(match[1] ? { base: match[1].replace(/\/+$/, '') } : {}), type: match[2], id: match[3] };
}

/** "Type/id" of a literal reference, so that relative, absolute and versioned forms compare equal. */
export function referenceKey(reference: string | undefined): string | undefined {
  const parsed = parseReference(reference);
  return parsed ? `${parsed.type}/${parsed.id}` : undefined;
}

function sameBase(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      const parsed = new URL(url);
      return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
    } catch {
      return url.replace(/\/+$/, '');
    }
  };
  return normal(a) === normal(b);
}

function identifierMatch(subject: Identifier, patient: PatientIdentity): SubjectVerdict {
  if (!patient.identifiers) return 'subject-identifier-unverified';
  // Both system and value: a bare value (an MRN without its issuer) could be another patient's.
  const match = Boolean(subject.system && subject.value) && patient.identifiers.some((i) => i.system === subject.system && i.value === subject.value);
  return match ? 'same-patient' : 'other-patient';
}

/**
 * Whether `subject` is `patient`. `fhirServer`: the server the resource came from, when known;
 * an absolute reference to another server is not this patient, whatever its id.
 */
export function subjectVerdict(subject: Reference | undefined, patient: PatientIdentity, fhirServer?: string): SubjectVerdict {
  if (!subject || (subject.reference === undefined && subject.identifier === undefined)) return 'no-subject';
  if (subject.reference !== undefined) {
    const parsed = parseReference(subject.reference);
    if (parsed) {
      if (parsed.type !== 'Patient') return 'subject-not-a-patient';
      if (parsed.base && fhirServer && !sameBase(parsed.base, fhirServer)) return 'other-server';
      return parsed.id === patient.id ? 'same-patient' : 'other-patient';
    }
  }
  return subject.identifier ? identifierMatch(subject.identifier, patient) : 'subject-unresolvable';
}
