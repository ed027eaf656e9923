/**
 * End to end with the shipped ensemble and nothing standing in: a fresh tumor phantom (a seed no
 * fold saw) is STOWed into a real Orthanc; its stable-study Lua callback triggers the service,
 * which locates the views over QIDO-RS, fetches them over WADO-RS, runs the five folds with TTA,
 * and writes the DiagnosticReport to the FHIR engine. patient-view then shows the finding as an info
 * card that says the model is a demonstration model (the service runs it only when allowed), and
 * the report's lesion Observation boxes the reference lesion. (How often the ensemble is right on
 * fresh phantoms is test/models/shipped-model.test.ts's matter; the cards of every other outcome
 * are test/cds-hooks/hooks.test.ts's.)
 */
import type { DiagnosticReport, Observation } from 'fhir/r4';
import type { GeneratedPatient } from '../../models/phantoms/generate';
import { DEFAULT_MANIFEST } from '../../server/src/config';
import type { PixelBox } from '../../server/src/domain/analysis';
import { intersectionOverUnion } from '../../server/src/evaluation/matching';
import { FINDING } from '../../fhir-profiles/codes';
import { loadPacsAnalysis } from '../../server/src/pipeline/pacs-analysis';
import { RECENT_STUDY_DATE, registerStudy } from '../support/fhir-fixtures';
import { freshPhantoms } from '../support/fresh-phantoms';
import { stowFile } from '../support/qido-analyse';
import { startTriggeredService, type TriggeredService } from '../support/triggered-service';

let stack: TriggeredService;
let threshold: number;
beforeAll(async () => {
  stack = await startTriggeredService(
    async (_orthanc, config) => {
      if (!config.pacs) throw new Error('the test configuration names no PACS');
      const { analyse, detector } = await loadPacsAnalysis(config.pacs, config.model, config.analysis, () => undefined);
      threshold = detector.manifest.operatingThreshold;
      return { analyse, model: detector.identity, release: () => detector.release() };
    },
    { model: { manifestPath: DEFAULT_MANIFEST, cpuThreads: 1, allowDemonstrationModel: true } },
  );
}, 120000);
afterAll(() => stack?.stop());

async function stowAndWait(patient: GeneratedPatient): Promise<{ patientId: string; report: DiagnosticReport }> {
  const { fhir, orthanc } = stack;
  const uid = await stowFile(orthanc.dicomWebUrl, patient.ap);
  expect(await stowFile(orthanc.dicomWebUrl, patient.lateral)).toBe(uid);
  const { patientId } = await registerStudy(fhir, uid);
  expect(await stack.settled(uid, 90000)).toMatchObject({ state: 'done', source: 'orthanc' });
  const reports = await fhir.search<DiagnosticReport>(`DiagnosticReport?subject=Patient/${patientId}`);
  expect(reports).toHaveLength(1);
  return { patientId, report: reports[0] as DiagnosticReport };
}

/** The lesion box an Observation carries, with the SOP instance it is drawn on. */
function lesionBox(observation: Observation): { sopInstanceUid: string; box: PixelBox; confidence: number } {
  const component = (code: string) => observation.component?.find((c) => c.code.coding?.[0]?.code === code);
  const value = (code: string) => component(code)?.valueQuantity?.value ?? NaN;
  return {
    sopInstanceUid: (component(FINDING.imageRegion.code ?? '')?.valueString ?? '').replace('urn:oid:', ''),
    box: { x: value('box-x'), y: value('box-y'), width: value('box-width'), height: value('box-height') },
    confidence: observation.valueQuantity?.value ?? NaN,
  };
}

it('a tumor phantom: STOW -> stable study -> ensemble -> report boxing the lesion -> demonstration card', async () => {
  const [patient] = freshPhantoms(true, 1) as [GeneratedPatient];
  const { patientId, report } = await stowAndWait(patient);
  expect(report.conclusionCode?.[0]?.coding?.[0]?.code).toBe('126537000');

  const lesions = (await stack.fhir.search<Observation>(`Observation?subject=Patient/${patientId}`)).filter((o) => o.code.coding?.[0]?.code === FINDING.lesion.code);
  const localised = lesions.map(lesionBox).some(({ sopInstanceUid, box, confidence }) => {
    const reference = patient.reference.images.find((image) => image.imageId === sopInstanceUid)?.boxes[0];
    return confidence >= threshold && reference !== undefined && intersectionOverUnion(box, reference) > 0.2;
  });
  expect(localised).toBe(true);

  const cards = await stack.patientView(patientId);
  // The shipped ensemble is a demonstration model: its finding is shown, never as a warning.
  expect(cards).toEqual([
    expect.objectContaining({
      indicator: 'info',
      summary: expect.stringMatching(
        new RegExp(`^Demonstration model \\(synthetic training images\\): possible bone tumor, (left knee|right knee|knee) \\((AP|lateral) view\\), radiographs of ${RECENT_STUDY_DATE}$`),
      ),
    }),
  ]);
}, 180000);
