/**
 * The pure rules behind patient scoping and the FHIR server allow-list: which subjects are the
 * patient's, which Observations a card may read, and which fhirServer URLs a client may name.
 */
import type { DiagnosticReport, ImagingStudy, Observation, Reference } from 'fhir/r4';
import { isListedFhirServer } from '../../cds-hooks/fhir-servers';
import { scopeToPatient } from '../../cds-hooks/patient-scope';
import { subjectVerdict } from '../../fhir-profiles/patient-subject';

const patient = { id: 'p-123' };
const MRN = { system: 'urn:oid:1.2.3', value: 'M-1' };

describe('subjectVerdict', () => {
  it.each<[string, Reference | undefined, string]>([
    ['a relative reference', { reference: 'Patient/p-123' }, 'same-patient'],
    ['a versioned reference', { reference: 'Patient/p-123/_history/4' }, 'same-patient'],
    ['an absolute reference on the hook\'s server', { reference: 'https://ehr.example.org/fhir/Patient/p-123' }, 'same-patient'],
    ['an absolute versioned reference, base with a trailing slash', { reference: 'https://ehr.example.org/fhir/Patient/p-123/_history/2' }, 'same-patient'],
    ['another patient', { reference: 'Patient/p-1234' }, 'other-patient'],
    ['another patient, absolute', { reference: 'https://ehr.example.org/fhir/Patient/p-12' }, 'other-patient'],
    ['the same id on another server', { reference: 'https://other.example.org/fhir/Patient/p-123' }, 'other-server'],
    ['a Group', { reference: 'Group/p-123' }, 'subject-not-a-patient'],
    ['no subject', undefined, 'no-subject'],
    ['a subject with only a display', { display: 'Someone' }, 'no-subject'],
    ['a contained reference', { reference: '#p1' }, 'subject-unresolvable'],
    ['a conditional reference', { reference: 'Patient?identifier=urn:oid:1.2.3|M-1' }, 'subject-unresolvable'],
    ['an identifier, identifiers unknown', { identifier: MRN }, 'subject-identifier-unverified'],
    ['a reference wins over an identifier', { reference: 'Patient/other', identifier: MRN }, 'other-patient'],
  ])('%s', (_what, subject, verdict) => {
    expect(subjectVerdict(subject, patient, 'https://ehr.example.org/fhir/')).toBe(verdict);
  });

  it('matches an identifier by system and value, never by value alone', () => {
    const known = { ...patient, identifiers: [MRN] };
    expect(subjectVerdict({ identifier: MRN }, known)).toBe('same-patient');
    expect(subjectVerdict({ identifier: { ...MRN, value: 'M-2' } }, known)).toBe('other-patient');
    expect(subjectVerdict({ identifier: { value: 'M-1' } }, known)).toBe('other-patient');
    expect(subjectVerdict({ identifier: { ...MRN, system: 'urn:oid:9.9' } }, known)).toBe('other-patient');
  });

  it('takes an absolute reference by its id when the hook named no server', () => {
    expect(subjectVerdict({ reference: 'https://other.example.org/fhir/Patient/p-123' }, patient)).toBe('same-patient');
  });
});

describe('scopeToPatient', () => {
  const study = (id: string, subject: string): ImagingStudy => ({ resourceType: 'ImagingStudy', id, status: 'available', subject: { reference: subject } });
  const report = (id: string, subject: string, results: string[]): DiagnosticReport => ({
    resourceType: 'DiagnosticReport',
    id,
    status: 'preliminary',
    code: {},
    subject: { reference: subject },
    result: results.map((reference) => ({ reference })),
  });
  const observation = (id: string, subject: string): Observation => ({ resourceType: 'Observation', id, status: 'final', code: {}, subject: { reference: subject } });

  it('keeps an Observation only when a kept report lists it and it names the same patient', () => {
    const { data, dropped } = scopeToPatient(
      {
        studies: [study('s1', 'Patient/p-123'), study('s2', 'Patient/other')],
        reports: [report('r1', 'Patient/p-123', ['Observation/o1', 'https://ehr.example.org/fhir/Observation/o2/_history/1', 'Observation/o3']), report('r2', 'Patient/other', ['Observation/o4'])],
        observations: [observation('o1', 'Patient/p-123'), observation('o2', 'Patient/p-123'), observation('o3', 'Patient/other'), observation('o4', 'Patient/p-123'), observation('o5', 'Patient/p-123')],
      },
      patient,
    );
    expect(data.studies.map((s) => s.id)).toEqual(['s1']);
    expect(data.reports.map((r) => r.id)).toEqual(['r1']);
    expect(data.observations.map((o) => o.id)).toEqual(['o1', 'o2']);
    expect(dropped).toEqual([
      { resource: 'ImagingStudy/s2', reason: 'other-patient' },
      { resource: 'DiagnosticReport/r2', reason: 'other-patient' },
      { resource: 'Observation/o4', reason: 'not-in-a-kept-report' },
      { resource: 'Observation/o5', reason: 'not-in-a-kept-report' },
      { resource: 'Observation/o3', reason: 'other-patient' },
    ]);
  });
});

describe('isListedFhirServer', () => {
  const listed = ['https://ehr.example.org/fhir/R4/', 'http://127.0.0.1:8090/fhir'];
  it.each([
    ['the listed base', 'https://ehr.example.org/fhir/R4', true],
    ['the listed base with a trailing slash', 'https://ehr.example.org/fhir/R4/', true],
    ['a path below it (a tenant)', 'https://ehr.example.org/fhir/R4/tenant-a', true],
    ['host case and the default port do not matter', 'https://EHR.example.org:443/fhir/R4', true],
    ['a path that only starts with the same letters', 'https://ehr.example.org/fhir/R4-admin', false],
    ['a path above it', 'https://ehr.example.org/fhir', false],
    ['dot segments that climb out of it', 'https://ehr.example.org/fhir/R4/../../admin', false],
    ['another scheme', 'http://ehr.example.org/fhir/R4', false],
    ['another port', 'https://ehr.example.org:8443/fhir/R4', false],
    ['another host', 'https://ehr.example.org.evil.example/fhir/R4', false],
    ['credentials in the URL', 'https://user:pw@ehr.example.org/fhir/R4', false],
    ['a query', 'https://ehr.example.org/fhir/R4?x=1', false],
    ['loopback on another port', 'http://127.0.0.1:8091/fhir', false],
    ['an internal address', 'http://169.254.169.254/latest/meta-data', false],
  ])('%s', (_what, url, allowed) => {
    expect(isListedFhirServer(url, listed)).toBe(allowed);
  });

  it('allows nothing when the client lists no server', () => {
    expect(isListedFhirServer('https://ehr.example.org/fhir/R4', [])).toBe(false);
  });
});
