/**
 * Patient safety: a card is made only from the hook patient's own resources. The real FHIR engine
 * sits behind a proxy that drops `patient=` (a search then returns every patient's studies and
 * reports), and prefetch is filled with another patient's resources; patient A's chart must never
 * show patient B's finding, and what was dropped is logged by id and reason, never by name.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Bundle, DiagnosticReport, FhirResource, ImagingStudy, Patient } from 'fhir/r4';
import { PREFETCH, resolveTemplate } from '../../cds-hooks/patient-data';
import { createService, type KneeTumorService } from '../../server/src/service';
import { createFhirClient } from '../../server/src/fhir/client';
import { writeReport } from '../../server/src/results/fhir/write-report';
import type { LogFields } from '../../server/src/log';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { daysAgo } from '../support/fhir-fixtures';
import { sampleAnalysis } from '../support/analysis-fixture';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { startParameterDroppingProxy, type RecordingServer } from '../support/recording-server';
import { SERVICE_BASE, TEST_MODEL, testConfig } from '../support/service-config';

const SERVICE = 'knee-tumor-patient-view';
const MRN_SYSTEM = 'urn:oid:1.2.840.99.7.1';

let fhir: RunningFhirServer;
let careless: RecordingServer & { baseUrl: string };
let ehr: TestCdsClient;
let service: KneeTumorService;
const logged: Array<{ event: string; fields: LogFields }> = [];

interface ChartedPatient {
  patientId: string;
  name: string;
  mrn: string;
  imagingStudy: string;
  report: string;
}

beforeAll(async () => {
  fhir = await startFhirServer();
  careless = await startParameterDroppingProxy(fhir.baseUrl, ['patient', 'subject']);
  ehr = await createTestCdsClient();
  const config = testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks, fhirServers: [careless.baseUrl, fhir.baseUrl] }]);
  service = createService(config, () => Promise.reject(new Error('not used')), TEST_MODEL, (event, fields = {}) => logged.push({ event, fields }));
});
afterAll(async () => {
  await service.stop();
  await careless.stop();
  await fhir.stop();
});
beforeEach(() => {
  logged.length = 0;
});

/** A named patient with an MRN, one knee study and its analysis (positive or not). */
async function chartedPatient(name: string, positive: boolean, started: string): Promise<ChartedPatient> {
  const mrn = `MRN-${randomUUID().slice(0, 8)}`;
  const [family, given] = name.split(' ').reverse();
  const patient = await fhir.create<Patient>({ resourceType: 'Patient', name: [{ family, given: [given ?? ''] }], identifier: [{ system: MRN_SYSTEM, value: mrn }] });
  const uid = `1.2.840.99.${Math.floor(Math.random() * 1e9)}`;
  const study = await fhir.create<ImagingStudy>({
    resourceType: 'ImagingStudy',
    status: 'available',
    subject: { reference: `Patient/${patient.id}` },
    started,
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${uid}` }],
  });
  const { report } = await writeReport(createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }), sampleAnalysis({ studyInstanceUid: uid, positive }));
  return { patientId: patient.id, name, mrn, imagingStudy: `ImagingStudy/${study.id}`, report };
}

const searchset = (resources: FhirResource[]): Bundle<FhirResource> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

/** The prefetch an EHR fills for `patientId`, straight from the FHIR engine (which honours patient=). */
async function prefetchFor(patientId: string): Promise<Record<keyof typeof PREFETCH, Bundle<FhirResource>>> {
  const search = (template: string) => fhir.search<FhirResource>(resolveTemplate(template, { patientId }));
  return { kneeStudies: searchset(await search(PREFETCH.kneeStudies)), analysisReports: searchset(await search(PREFETCH.analysisReports)) };
}

const fhirAuthorization = { access_token: 'ehr-access-token', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'knee-tumor' };

async function patientView(patientId: string, extra: Record<string, unknown>) {
  const token = await ehr.token(`${SERVICE_BASE}/cds-services/${SERVICE}`);
  const response = await request(service.app)
    .post(`/cds-services/${SERVICE}`)
    .set('Authorization', `Bearer ${token}`)
    .send({ hook: 'patient-view', hookInstance: randomUUID(), context: { patientId }, ...extra });
  expect(response.status).toBe(200);
  return response.body.cards as Array<{ summary: string; indicator: string; links: Array<{ appContext: string }> }>;
}

const reportsOf = (cards: Awaited<ReturnType<typeof patientView>>) => cards.map((c) => (JSON.parse(c.links[0]?.appContext ?? '{}') as { diagnosticReport?: string }).diagnosticReport);

const dropLog = () => logged.filter((l) => l.event === 'cds-resources-dropped');

describe('a FHIR server that ignores patient=', () => {
  it('returns every patient\'s studies, and yet patient A\'s chart shows only A\'s result', async () => {
    const a = await chartedPatient('Alice Aardvark', false, daysAgo(5));
    const b = await chartedPatient('Bob Bystander', true, daysAgo(2));
    // The fault is real: through the proxy, A's search holds B's study and report.
    const leaked = await fetch(`${careless.baseUrl}/${resolveTemplate(PREFETCH.analysisReports, { patientId: a.patientId })}`).then((r) => r.json() as Promise<Bundle<DiagnosticReport>>);
    expect(leaked.entry?.map((e) => e.resource?.subject?.reference)).toContain(`Patient/${b.patientId}`);

    const cards = await patientView(a.patientId, { fhirServer: careless.baseUrl, fhirAuthorization });
    expect(cards.map((c) => [c.indicator, c.summary.slice(0, 24)])).toEqual([['info', 'No bone tumor detected b']]);
    expect(reportsOf(cards)).toEqual([a.report]);

    const [drop, ...more] = dropLog();
    expect(more).toEqual([]);
    expect(drop?.fields.reasons).toMatch(/other-patient:\d+/);
    expect(String(drop?.fields.resources).split(',')).toEqual(expect.arrayContaining([b.imagingStudy, b.report]));
    const line = JSON.stringify(logged);
    for (const secret of [a.name, b.name, 'Aardvark', 'Bystander', a.mrn, b.mrn]) expect(line).not.toContain(secret);
  });
});

describe('a prefetch that holds another patient\'s resources', () => {
  it('shows only the hook patient\'s card and logs what it dropped', async () => {
    const a = await chartedPatient('Carol Chart', false, daysAgo(6));
    const b = await chartedPatient('Dan Other', true, daysAgo(1));
    const [mine, theirs] = await Promise.all([prefetchFor(a.patientId), prefetchFor(b.patientId)]);
    const mixed = {
      kneeStudies: searchset([...(theirs.kneeStudies.entry ?? []), ...(mine.kneeStudies.entry ?? [])].flatMap((e) => (e.resource ? [e.resource] : []))),
      analysisReports: searchset([...(theirs.analysisReports.entry ?? []), ...(mine.analysisReports.entry ?? [])].flatMap((e) => (e.resource ? [e.resource] : []))),
    };
    const cards = await patientView(a.patientId, { prefetch: mixed });
    expect(cards.map((c) => c.indicator)).toEqual(['info']);
    expect(reportsOf(cards)).toEqual([a.report]);
    expect(String(dropLog()[0]?.fields.resources).split(',')).toEqual(expect.arrayContaining([b.imagingStudy, b.report]));
  });
});

describe('subjects given by identifier only', () => {
  /** A's prefetch with every subject replaced by an identifier reference carrying `mrn`. */
  async function identifierPrefetch(patient: ChartedPatient, mrn: string) {
    const prefetch = await prefetchFor(patient.patientId);
    const bySubjectIdentifier = (bundle: Bundle<FhirResource>) =>
      searchset((bundle.entry ?? []).flatMap((e) => (e.resource ? [{ ...e.resource, subject: { identifier: { system: MRN_SYSTEM, value: mrn } } } as FhirResource] : [])));
    return { kneeStudies: bySubjectIdentifier(prefetch.kneeStudies), analysisReports: bySubjectIdentifier(prefetch.analysisReports) };
  }

  it('are matched against the patient\'s identifiers, read from the listed FHIR server', async () => {
    const a = await chartedPatient('Erin Ident', true, daysAgo(3));
    const b = await chartedPatient('Frank Ident', false, daysAgo(3));
    const own = await patientView(a.patientId, { prefetch: await identifierPrefetch(a, a.mrn), fhirServer: fhir.baseUrl, fhirAuthorization });
    expect(reportsOf(own)).toEqual([a.report]);
    // B's MRN on resources in A's chart: not A's, whatever the resources say of themselves.
    const other = await patientView(a.patientId, { prefetch: await identifierPrefetch(a, b.mrn), fhirServer: fhir.baseUrl, fhirAuthorization });
    expect(other).toEqual([]);
    // The study and the report; the report's Observations go with it.
    expect(dropLog().at(-1)?.fields.reasons).toBe('other-patient:2,not-in-a-kept-report:4');
  });

  it('are dropped when the patient\'s identifiers cannot be read (no FHIR server to ask)', async () => {
    const a = await chartedPatient('Gina Ident', true, daysAgo(3));
    expect(await patientView(a.patientId, { prefetch: await identifierPrefetch(a, a.mrn) })).toEqual([]);
    expect(dropLog()[0]?.fields.reasons).toBe('subject-identifier-unverified:2,not-in-a-kept-report:4');
  });
});
