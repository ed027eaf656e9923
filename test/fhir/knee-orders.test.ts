/**
 * Which orders are knee radiographs is our ValueSet (fhir-profiles/ValueSet-knee-radiograph-orders.json),
 * a valid FHIR R4 ValueSet that a site extends or replaces with its own. Over real HTTP with the
 * real FHIR engine: an order-select on a CPT 73560 order gives the card, a chest radiograph (CPT
 * 71046) gives none; a site's own code counts once its ValueSet is configured; and a study basedOn
 * a CPT-coded order is a knee study.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import type { Bundle, FhirResource, ImagingStudy, ServiceRequest, ValueSet } from 'fhir/r4';
import { PREFETCH, resolveTemplate } from '../../cds-hooks/patient-data';
import { KNEE_RADIOGRAPH_ORDERS_VALUE_SET } from '../../server/src/config';
import { createFhirClient } from '../../server/src/fhir/client';
import { kneeOrderOfStudy, loadKneeRadiographCodes } from '../../server/src/fhir/knee-orders';
import { validationProblems } from '../../server/src/fhir/validate';
import { writeReport } from '../../server/src/results/fhir/write-report';
import { silentLog } from '../../server/src/log';
import { createService, type KneeTumorService } from '../../server/src/service';
import { sampleAnalysis } from '../support/analysis-fixture';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { SERVICE_BASE, TEST_MODEL, testConfig } from '../support/service-config';

const CPT = 'http://www.ama-assn.org/go/cpt';
const SITE_SYSTEM = 'https://hospital.example.org/fhir/CodeSystem/orders';
const valueSet = JSON.parse(readFileSync(KNEE_RADIOGRAPH_ORDERS_VALUE_SET, 'utf8')) as ValueSet;

let fhir: RunningFhirServer;
let ehr: TestCdsClient;
const services: KneeTumorService[] = [];

beforeAll(async () => {
  fhir = await startFhirServer();
  ehr = await createTestCdsClient();
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await fhir.stop();
});

function serviceWith(orders?: Record<string, unknown>): KneeTumorService {
  const service = createService(
    testConfig(fhir.baseUrl, [{ issuer: ehr.issuer, jwks: ehr.jwks }], orders ? { orders } : {}),
    () => Promise.reject(new Error('not used')),
    TEST_MODEL,
    silentLog,
  );
  services.push(service);
  return service;
}

function siteValueSet(codes: string[]): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'site-orders-')), 'ValueSet-site-knee-orders.json');
  const site: ValueSet = {
    resourceType: 'ValueSet',
    url: 'https://hospital.example.org/fhir/ValueSet/knee-orders',
    status: 'active',
    compose: { include: [{ system: SITE_SYSTEM, concept: codes.map((code) => ({ code })) }] },
  };
  writeFileSync(file, JSON.stringify(site));
  return file;
}

/** A patient with a positive analysed knee study, and the prefetch an EHR fills from our templates. */
async function patientWithPositiveStudy(): Promise<{ patientId: string; prefetch: Record<string, Bundle<FhirResource>> }> {
  const uid = `1.2.840.99.${Math.floor(Math.random() * 1e9)}`;
  const { patientId } = await registerStudy(fhir, uid);
  await writeReport(createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 }), sampleAnalysis({ studyInstanceUid: uid, positive: true }));
  const bundle = (resources: FhirResource[]): Bundle<FhirResource> => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
  const search = (template: string) => fhir.search<FhirResource>(resolveTemplate(template, { patientId }));
  return { patientId, prefetch: { kneeStudies: bundle(await search(PREFETCH.kneeStudies)), analysisReports: bundle(await search(PREFETCH.analysisReports)) } };
}

/** An order coded only (no text, no display), so that only the ValueSet can recognise it. */
const order = (id: string, system: string, code: string): ServiceRequest => ({
  resourceType: 'ServiceRequest',
  id,
  status: 'draft',
  intent: 'order',
  subject: { reference: 'Patient/x' },
  code: { coding: [{ system, code }] },
});

async function orderSelectCards(service: KneeTumorService, draft: ServiceRequest) {
  const { patientId, prefetch } = await patientWithPositiveStudy();
  const id = 'knee-tumor-order-select';
  const token = await ehr.token(`${SERVICE_BASE}/cds-services/${id}`);
  const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] };
  const response = await request(service.app)
    .post(`/cds-services/${id}`)
    .set('Authorization', `Bearer ${token}`)
    .send({ hook: 'order-select', hookInstance: randomUUID(), context: { patientId, selections: [`ServiceRequest/${draft.id}`], draftOrders }, prefetch });
  expect(response.status).toBe(200);
  return response.body.cards as Array<{ indicator: string; summary: string }>;
}

describe('the knee radiograph order ValueSet', () => {
  it('is a valid FHIR R4 ValueSet with our canonical URL', () => {
    expect(validationProblems(valueSet)).toEqual([]);
    expect(valueSet.url).toBe('https://knee-tumor.example.org/fhir/ValueSet/knee-radiograph-orders');
  });

  it('lists the LOINC knee radiograph codes of our reports, CPT 73560-73565 and SNOMED CT knee X-ray procedures', () => {
    const codes = loadKneeRadiographCodes({ kneeRadiographValueSetUse: 'extend' });
    for (const code of ['24806-2', '26395-4', '26396-2', '26394-7']) expect(codes.has(`http://loinc.org|${code}`)).toBe(true);
    for (const code of ['73560', '73562', '73564', '73565']) expect(codes.has(`${CPT}|${code}`)).toBe(true);
    expect(valueSet.compose?.include.find((i) => i.system === 'http://snomed.info/sct')?.concept?.length).toBeGreaterThan(0);
    expect(codes.has(`${CPT}|71046`)).toBe(false);
  });
});

describe('order-select over HTTP', () => {
  it('gives the card for a knee radiograph ordered by CPT 73560, none for a chest radiograph (CPT 71046)', async () => {
    const service = serviceWith();
    expect(await orderSelectCards(service, order('knee-cpt', CPT, '73560'))).toEqual([expect.objectContaining({ indicator: 'warning' })]);
    expect(await orderSelectCards(service, order('chest-cpt', CPT, '71046'))).toEqual([]);
  });

  it('a site ValueSet adds its own order codes to ours, or replaces ours', async () => {
    const file = siteValueSet(['KXR2']);
    const siteOrder = order('knee-site', SITE_SYSTEM, 'KXR2');
    expect(await orderSelectCards(serviceWith(), siteOrder)).toEqual([]);
    const extended = serviceWith({ kneeRadiographValueSet: file });
    expect(await orderSelectCards(extended, siteOrder)).toHaveLength(1);
    expect(await orderSelectCards(extended, order('knee-cpt', CPT, '73560'))).toHaveLength(1);
    const replaced = serviceWith({ kneeRadiographValueSet: file, kneeRadiographValueSetUse: 'replace' });
    expect(await orderSelectCards(replaced, siteOrder)).toHaveLength(1);
    expect(await orderSelectCards(replaced, order('knee-cpt', CPT, '73560'))).toEqual([]);
  });

  it('refuses at start-up a site ValueSet it cannot use, naming the file', () => {
    const file = siteValueSet([]);
    writeFileSync(file, JSON.stringify({ resourceType: 'ValueSet', status: 'active', compose: { include: [{ system: SITE_SYSTEM, filter: [{ property: 'concept', op: 'is-a', value: 'KXR' }] }] } }));
    expect(() => serviceWith({ kneeRadiographValueSet: file })).toThrow(expect.objectContaining({ code: 'config-invalid', message: expect.stringContaining(file) }));
    writeFileSync(file, JSON.stringify({ resourceType: 'ValueSet', status: 'nonsense' }));
    expect(() => serviceWith({ kneeRadiographValueSet: file })).toThrow(expect.objectContaining({ code: 'config-invalid', message: expect.stringContaining('is invalid') }));
  });
});

describe('the order a study was made for', () => {
  it('a study basedOn a CPT-coded knee order is a knee study; one basedOn a chest order is not', async () => {
    const codes = loadKneeRadiographCodes({ kneeRadiographValueSetUse: 'extend' });
    const client = createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 });
    for (const [code, expected] of [['73562', true], ['71046', false]] as const) {
      const uid = `1.2.840.98.${Math.floor(Math.random() * 1e9)}`;
      const { imagingStudyId } = await registerStudy(fhir, uid);
      const placed = await fhir.create<ServiceRequest>({ ...order('', CPT, code), id: undefined, status: 'active' });
      const [study] = await fhir.search<ImagingStudy>(`ImagingStudy?_id=${imagingStudyId}`);
      await fetch(`${fhir.baseUrl}/ImagingStudy/${imagingStudyId}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ ...study, basedOn: [{ reference: `ServiceRequest/${placed.id}` }] }),
      });
      const found = await kneeOrderOfStudy(codes, client, uid);
      expect(found !== undefined).toBe(expected);
      if (expected) expect(found).toBe(`ServiceRequest/${placed.id} (knee radiograph)`);
    }
  });
});
