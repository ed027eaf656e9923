/**
 * End to end, no manual step: STOW-RS of a radiograph into a real Orthanc, its stable-study Lua
 * callback calls our trigger, the worker analyses the study (detector test double over real
 * QIDO-RS) and writes the DiagnosticReport to the FHIR engine, and patient-view shows a warning
 * card. Then the same study triggered three times at once stays one job and one report.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { DiagnosticReport } from 'fhir/r4';
import { RECENT_STUDY_DATE, registerStudy } from '../support/fhir-fixtures';
import { qidoAnalyse, stowFile } from '../support/qido-analyse';
import { TRIGGER_TOKEN } from '../support/service-config';
import { startTriggeredService, type TriggeredService } from '../support/triggered-service';

const RG3 = path.resolve(__dirname, '../../../shared/data/dicom/RG3_512_explicitLE.dcm');

let stack: TriggeredService;
beforeAll(async () => {
  stack = await startTriggeredService(async (orthanc) => ({ analyse: qidoAnalyse(orthanc.dicomWebUrl) }));
}, 60000);
afterAll(() => stack?.stop());

it('STOW → stable study → report in FHIR → warning card on patient-view; triple trigger stays one job', async () => {
  const { fhir, orthanc, running } = stack;
  const uid = await stowFile(orthanc.dicomWebUrl, readFileSync(RG3));
  const { patientId } = await registerStudy(fhir, uid);

  const job = await stack.settled(uid);
  expect(job).toMatchObject({ state: 'done', source: 'orthanc', attempts: 1 });
  const reports = await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
  expect(reports).toHaveLength(1);
  expect(job.report).toBe(`DiagnosticReport/${reports[0]?.id}`);
  expect(reports[0]?.meta?.security?.[0]?.code).toBe('AIAST');

  const cards = await stack.patientView(patientId);
  // RG3 states no laterality, so the card names no side.
  expect(cards).toEqual([expect.objectContaining({ indicator: 'warning', summary: `Possible bone tumor, knee (lateral view), radiographs of ${RECENT_STUDY_DATE}` })]);
  expect(JSON.parse(cards[0]?.links[0]?.appContext ?? '{}')).toMatchObject({ studyInstanceUid: uid });

  const again = await Promise.all(
    ['/triggers/studies', '/triggers/studies', '/triggers/orthanc'].map((route) =>
      request(running.url).post(route).set('Authorization', `Bearer ${TRIGGER_TOKEN}`).send({ studyInstanceUid: uid }),
    ),
  );
  expect(again.map((r) => r.status)).toEqual([202, 202, 202]);
  expect(new Set(again.map((r) => r.body.jobs[0].job))).toEqual(new Set([job.id]));
  expect(again.every((r) => r.body.jobs[0].created === false && r.body.jobs[0].state === 'done')).toBe(true);
  expect(await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`)).toHaveLength(1);
});
