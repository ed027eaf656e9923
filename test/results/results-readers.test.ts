/**
 * The two results readers give the same cards: the analysis written to a real FHIR engine and read
 * back from it (what the hooks do today), and the same analysis read from the job store it was
 * stored in (for a site whose EHR refuses our FHIR writes).
 */
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImagingStudy } from 'fhir/r4';
import { studyCards } from '../../cds-hooks/study-cards';
import type { StudyRef } from '../../cds-hooks/cards';
import { createFhirClient } from '../../server/src/fhir/client';
import { openSqliteStores } from '../../server/src/jobs/sqlite/stores';
import { createStoredResultsReader } from '../../server/src/jobs/stored-results';
import { createFhirResultsReader } from '../../server/src/results/fhir/read-reports';
import { FHIR_WRITER, writeReport } from '../../server/src/results/fhir/write-report';
import type { ResultsReader } from '../../server/src/results/results-reader';
import { sampleAnalysis } from '../support/analysis-fixture';
import { registerStudy } from '../support/fhir-fixtures';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server';

const UID = '1.2.826.0.1.3680043.8.498.901';
const SETTINGS = { appLaunchUrl: 'https://viewer.example/launch', modelCardUrl: 'https://example.org/model-card', currentStudyDays: 30 };

let fhir: RunningFhirServer;
beforeAll(async () => {
  fhir = await startFhirServer();
});
afterAll(() => fhir.stop());

async function cardsFrom(reader: ResultsReader, patient: string, study: StudyRef) {
  const { reports, observations } = await reader.reportsFor(patient, [study]);
  return studyCards(SETTINGS, { studies: [], reports, observations }, new Map(), [study], Date.now());
}

it('makes the same cards from the job store as from the FHIR server', async () => {
  const { patientId, imagingStudyId } = await registerStudy(fhir, UID);
  const [imagingStudy] = await fhir.search<ImagingStudy>(`ImagingStudy?_id=${imagingStudyId}`);
  const study: StudyRef = { studyInstanceUid: UID, imagingStudy: `ImagingStudy/${imagingStudyId}`, started: imagingStudy?.started };
  const result = sampleAnalysis({ studyInstanceUid: UID, positive: true });
  const client = createFhirClient({ baseUrl: fhir.baseUrl, timeoutMs: 3000 });
  const { report } = await writeReport(client, result);

  const stores = openSqliteStores(path.join(mkdtempSync(path.join(os.tmpdir(), 'readers-')), 'jobs.sqlite'), 'knee-tumor@1.0.0');
  try {
    const { job } = await stores.jobs.enqueue(UID, 'http');
    await stores.jobs.claimNext();
    await stores.jobs.complete(job.id, report, { result, writes: [{ writer: FHIR_WRITER, location: report }] });

    const fromFhir = await cardsFrom(createFhirResultsReader(client), `Patient/${patientId}`, study);
    const fromStore = await cardsFrom(createStoredResultsReader(stores.jobs), `Patient/${patientId}`, study);
    expect(fromFhir).toHaveLength(1);
    expect(fromFhir[0]?.summary).toMatch(/tumou?r|lesion|finding/i);
    expect(fromStore).toEqual(fromFhir);
    // A study the store has no result for gives no report.
    expect(await createStoredResultsReader(stores.jobs).reportsFor(`Patient/${patientId}`, [{ studyInstanceUid: '9.9.9' }])).toEqual({ reports: [], observations: [] });
  } finally {
    stores.close();
  }
});
