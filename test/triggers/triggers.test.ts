/**
 * The trigger endpoints over real HTTP: each needs its token; the HTTP trigger takes a DICOM UID;
 * a FHIR Subscription notification (an available ImagingStudy, a completed ServiceRequest
 * resolved through the FHIR engine, or a Bundle of them) enqueues the same idempotent job.
 */
import request from 'supertest';
import type { ImagingStudy, ServiceRequest } from 'fhir/r4';
import { createService, type KneeTumorService } from '../../server/src/service';
import { silentLog } from '../../server/src/log';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';
import { TEST_MODEL, TRIGGER_TOKEN, testConfig } from '../support/service-config';

let fhir: RunningFhirServer;
let service: KneeTumorService;
beforeAll(async () => {
  fhir = await startFhirServer();
  service = createService(testConfig(fhir.baseUrl, []), () => new Promise(() => undefined), TEST_MODEL, silentLog);
});
afterAll(async () => {
  await service.stop();
  await fhir.stop();
});

const post = (route: string, body: unknown, token: string | null = TRIGGER_TOKEN) => {
  const req = request(service.app).post(route);
  return (token ? req.set('Authorization', `Bearer ${token}`) : req).send(body as object);
};

it.each(['/triggers/studies', '/triggers/orthanc', '/triggers/fhir-subscription'])('%s refuses a missing or wrong token', async (route) => {
  expect((await post(route, { studyInstanceUid: '1.2.3' }, null)).status).toBe(401);
  expect((await post(route, { studyInstanceUid: '1.2.3' }, 'x'.repeat(40))).status).toBe(401);
});

it('refuses a StudyInstanceUID that is not a DICOM UID', async () => {
  for (const body of [{ studyInstanceUid: '1.2.abc' }, { studyInstanceUid: '1.'.repeat(40) + '1' }, {}]) {
    expect((await post('/triggers/studies', body)).status).toBe(400);
  }
});

it('enqueues one job for an available ImagingStudy notification, and nothing for a heartbeat', async () => {
  const uid = '1.2.840.55.1';
  await registerStudy(fhir, uid);
  const [study] = await fhir.search<ImagingStudy>(`ImagingStudy?identifier=urn:dicom:uid|urn:oid:${uid}`);
  const first = await post('/triggers/fhir-subscription', study).expect(202);
  expect(first.body.jobs).toEqual([expect.objectContaining({ studyInstanceUid: uid, created: true, state: 'queued' })]);
  const inBundle = await post('/triggers/fhir-subscription', { resourceType: 'Bundle', type: 'history', entry: [{ resource: study }] }).expect(202);
  expect(inBundle.body.jobs).toEqual([expect.objectContaining({ job: first.body.jobs[0].job, created: false })]);
  expect((await post('/triggers/fhir-subscription', {}).expect(202)).body.jobs).toEqual([]);
});

it('resolves a completed ServiceRequest to the ImagingStudies based on it', async () => {
  const order = await fhir.create<ServiceRequest>({ resourceType: 'ServiceRequest', status: 'completed', intent: 'order', subject: { reference: 'Patient/x' }, code: { text: 'XR knee 2 views' } });
  await fhir.create<ImagingStudy>({
    resourceType: 'ImagingStudy',
    status: 'available',
    subject: { reference: 'Patient/x' },
    basedOn: [{ reference: `ServiceRequest/${order.id}` }],
    identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:1.2.840.55.2' }],
  });
  const response = await post('/triggers/fhir-subscription', order).expect(202);
  expect(response.body.jobs).toEqual([expect.objectContaining({ studyInstanceUid: '1.2.840.55.2', created: true })]);
  expect((await service.jobs.forStudy('1.2.840.55.2'))?.source).toBe('fhir-subscription');
});
