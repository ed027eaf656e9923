import type { DiagnosticReport, Observation, Device, ImagingStudy, Provenance } from 'fhir/r4';
import { createFhirClient } from '../../server/src/fhir/client';
import { writeReport } from '../../server/src/results/fhir/write-report';
import { toFhirTransaction } from '../../server/src/results/fhir/to-fhir';
import { KneeTumorError } from '../../server/src/errors';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';
import { registerStudy } from '../support/fhir-fixtures';
import { sampleAnalysis } from '../support/analysis-fixture';

let fhir: RunningFhirServer;
beforeAll(async () => {
  fhir = await startFhirServer();
});
afterAll(() => fhir.stop());

describe('writeReport against the FHIR engine', () => {
  it('writes the report once; a repeated write changes nothing', async () => {
    const uid = '1.2.3.4.100';
    const { patientId, imagingStudyId } = await registerStudy(fhir, uid);
    const client = createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000 });
    const first = await writeReport(client, sampleAnalysis({ studyInstanceUid: uid }));
    expect(first.created).toBe(true);
    const second = await writeReport(client, sampleAnalysis({ studyInstanceUid: uid }));
    expect(second).toEqual({ report: first.report, created: false });

    const reports = await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
    expect(reports).toHaveLength(1);
    expect(`DiagnosticReport/${reports[0]?.id}`).toBe(first.report);
    expect(reports[0]?.imagingStudy?.[0]?.reference).toBe(`ImagingStudy/${imagingStudyId}`);
    expect(await fhir.search<Observation>(`Observation?subject=Patient/${patientId}`)).toHaveLength(4);
    expect(await fhir.search<Provenance>(`Provenance?entity=ImagingStudy/${imagingStudyId}`)).toHaveLength(1);
    const [device] = await fhir.search<Device>('Device');
    expect(reports[0]?.result?.length).toBe(4);
    const observation = await fhir.search<Observation>(`Observation?subject=Patient/${patientId}&_count=1`);
    expect(observation[0]?.device?.reference).toBe(`Device/${device?.id}`);
  });

  it('the same transaction sent twice to the server creates nothing the second time (conditional creates)', async () => {
    const uid = '1.2.3.4.101';
    await registerStudy(fhir, uid);
    const client = createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000 });
    await writeReport(client, sampleAnalysis({ studyInstanceUid: uid }));
    const [study] = await fhir.search<ImagingStudy>(`ImagingStudy?identifier=urn:dicom:uid|urn:oid:${uid}`);
    const bundle = toFhirTransaction(sampleAnalysis({ studyInstanceUid: uid }), { patient: study?.subject?.reference ?? '', imagingStudy: `ImagingStudy/${study?.id}` });
    const response = await client.transaction(bundle);
    expect(response.entry?.map((e) => e.response?.status)).toEqual(['200', '200', '200', '200', '200', '200', '200']);
    expect(await fhir.search<Provenance>(`Provenance?entity=ImagingStudy/${study?.id}`)).toHaveLength(1);
  });

  it('fails retryably when the EHR has no ImagingStudy for the study yet', async () => {
    const client = createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 5000 });
    const error = await writeReport(client, sampleAnalysis({ studyInstanceUid: '1.2.3.4.999' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KneeTumorError);
    expect(error).toMatchObject({ code: 'imaging-study-not-in-fhir', retryable: true });
  });

  it('fails retryably with fhir-unreachable when the FHIR server is down', async () => {
    const client = createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 2000 });
    await fhir.stop();
    try {
      const error = await writeReport(client, sampleAnalysis({ studyInstanceUid: '1.2.3.4.100' })).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'fhir-unreachable', retryable: true });
    } finally {
      await fhir.start();
    }
  });
});
