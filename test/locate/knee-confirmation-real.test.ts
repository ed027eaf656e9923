/**
 * Knee confirmation on real files, through the real paths: the shared real radiographs (a PA
 * chest, a hip, a lower leg: see ../shared/data/dicom/README.md for their licenses) with their
 * body-part attributes removed are refused as not-knee with the reason, by `analyze --dir` (exit
 * 3) and by the locate step over DICOMweb from a real Orthanc; phantom knee studies that name the
 * knee only in German or only by an anatomic region code are analysed; and in the service, the
 * EHR's knee radiograph order (ImagingStudy.basedOn a ServiceRequest) confirms a study whose
 * images say nothing.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImagingStudy, Patient, ServiceRequest } from 'fhir/r4';
import { generatePatient } from '../../models/phantoms/generate';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { parsePart10 } from '../../server/src/dicom/part10';
import type { AnalysisResult } from '../../server/src/domain/analysis';
import { locateStudy } from '../../server/src/pipeline/locate-study';
import { DicomWebSource } from '../../server/src/sources/dicomweb-source';
import { FolderSource } from '../../server/src/sources/folder-source';
import { runCli } from '../support/cli';
import { rewriteAttributes, type AttributeChanges } from '../support/dicom-rewrite';
import { startDetectorService } from '../support/detector-service';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { SHARED_DICOM } from '../support/shared-data';
import { TEST_DETECTOR_MANIFEST } from '../support/test-detector';

interface Study {
  uid: string;
  files: Uint8Array[];
}

const uidOf = (file: Uint8Array, tag: string) => parsePart10(file, { headerOnly: true }).string(tag) as string;

/**
 * A two-view study with its own UIDs: the AP as changed, and the lateral (a copy of the AP unless
 * given) labelled LL.
 */
function twoViewStudy(ap: Uint8Array, variant: number, changes: AttributeChanges, lateralChanges: AttributeChanges = {}, lateral = ap): Study {
  const uid = `${uidOf(ap, 'x0020000d')}.${variant}`;
  return {
    uid,
    files: [
      rewriteAttributes(ap, {
        ...changes,
        StudyInstanceUID: uid,
        SeriesInstanceUID: `${uidOf(ap, 'x0020000e')}.${variant}1`,
        SOPInstanceUID: `${uidOf(ap, 'x00080018')}.${variant}1`,
      }),
      rewriteAttributes(lateral, {
        ...changes,
        ...lateralChanges,
        StudyInstanceUID: uid,
        SeriesInstanceUID: `${uidOf(lateral, 'x0020000e')}.${variant}2`,
        SOPInstanceUID: `${uidOf(lateral, 'x00080018')}.${variant}2`,
        ViewPosition: 'LL',
      }),
    ],
  };
}

const shared = (name: string) => new Uint8Array(readFileSync(path.join(SHARED_DICOM, name)));
const NO_BODY_PART: AttributeChanges = { BodyPartExamined: undefined, AnatomicRegionSequence: undefined };
const NO_DESCRIPTION: AttributeChanges = { StudyDescription: undefined, SeriesDescription: undefined, ProtocolName: undefined };

/** The real radiographs without their body part; the chest without descriptions, the hip and the leg with their own (which do not name the knee). */
const real = {
  chest: twoViewStudy(shared('RG1_J2KI.dcm'), 1, { ...NO_BODY_PART, ...NO_DESCRIPTION }),
  hip: twoViewStudy(shared('RG2_J2KR.dcm'), 2, NO_BODY_PART),
  leg: twoViewStudy(shared('RG3_512_explicitLE.dcm'), 3, NO_BODY_PART),
};
const REFUSALS = [
  ['a PA chest', 'chest', /^the knee is not confirmed: BodyPartExamined absent, Anatomic Region Sequence absent, no study, series, protocol or procedure description; /],
  ['a hip', 'hip', /^the radiographs show another body part \(2 StudyDescription 'HIP JOINT'\), not a knee$/],
  ['a lower leg', 'leg', /^the knee is not confirmed: BodyPartExamined absent, Anatomic Region Sequence absent, StudyDescription 'Non-ossifying fibroma of distal tibia'/],
] as const;

const phantom = generatePatient(31, 1, { width: 320, height: 400, tumorFraction: 0.25 });
const PHANTOM_UNCONFIRMED: AttributeChanges = { ...NO_BODY_PART, ...NO_DESCRIPTION };
const KNEE_REGION = [{ CodeValue: '72696002', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Knee' }];
/** A phantom knee study that names the knee only in German, in each view's SeriesDescription. */
const germanPhantom = (variant: number): Study =>
  twoViewStudy(phantom.ap, variant, { ...PHANTOM_UNCONFIRMED, SeriesDescription: 'Knie a.p.' }, { SeriesDescription: 'Knie seitlich' }, phantom.lateral);
/** A phantom knee study whose attributes say nothing of the body part. */
const unconfirmedPhantom = (variant: number): Study => twoViewStudy(phantom.ap, variant, PHANTOM_UNCONFIRMED, {}, phantom.lateral);

const cliEnv = { KNEE_TUMOR_MODEL: TEST_DETECTOR_MANIFEST };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'knee-confirmation-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function folderOf(name: string, study: Study): Promise<string> {
  const folder = path.join(dir, name);
  await mkdir(folder, { recursive: true });
  await Promise.all(study.files.map((file, i) => writeFile(path.join(folder, `image${i}`), file)));
  return folder;
}

async function analyseFolder(folder: string, ...flags: string[]) {
  const run = await runCli(['analyze', '--dir', folder, '--json', ...flags], cliEnv);
  return { code: run.code, stdout: JSON.parse(run.stdout) as AnalysisResult & { error?: { code: string; reason: string } } };
}

describe('knee-tumor analyze --dir', () => {
  it.each(REFUSALS)('refuses %s without its body part as not-knee, exit 3, naming what it looked at', async (_, key, reason) => {
    const { code, stdout } = await analyseFolder(await folderOf(key, real[key]));
    expect(code).toBe(3);
    expect(stdout.error?.code).toBe('not-knee');
    expect(stdout.error?.reason).toMatch(reason);
  });

  it('analyses an unconfirmed study and flags it when the site accepts such studies, but not its LEG original', async () => {
    const accepted = await analyseFolder(await folderOf('leg-accepted', real.leg), '--accept-unconfirmed-body-part');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout.views).toHaveLength(2);
    expect(accepted.stdout.flags.map((f) => f.code)).toContain('body-part-unconfirmed');
    const leg = twoViewStudy(shared('RG3_512_explicitLE.dcm'), 4, { BodyPartExamined: 'LEG' });
    const refused = await analyseFolder(await folderOf('leg-labelled', leg), '--accept-unconfirmed-body-part');
    expect(refused.code).toBe(3);
    expect(refused.stdout.error?.reason).toContain('BodyPartExamined LEG');
  });

  it('analyses a phantom knee study whose only knee label is the German SeriesDescription', async () => {
    const { code, stdout } = await analyseFolder(await folderOf('knie', germanPhantom(5)));
    expect(code).toBe(0);
    expect(stdout.views.map((v) => v.view)).toEqual(['AP', 'LATERAL']);
    expect(stdout.flags.filter((f) => f.code === 'body-part-unconfirmed')).toEqual([]);
  });
});

describe('the locate step over DICOMweb from a real Orthanc', () => {
  let orthanc: RunningOrthanc;
  let source: DicomWebSource;
  const german = germanPhantom(6);
  const requested = twoViewStudy(phantom.ap, 7, { ...PHANTOM_UNCONFIRMED, RequestedProcedureDescription: 'Röntgen Knie rechts' }, {}, phantom.lateral);
  const coded = twoViewStudy(phantom.ap, 11, { ...PHANTOM_UNCONFIRMED, AnatomicRegionSequence: KNEE_REGION }, {}, phantom.lateral);

  beforeAll(async () => {
    orthanc = await startOrthanc();
    const client = new DicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 20000 });
    await client.storeInstances([...Object.values(real), german, requested, coded].flatMap((s) => s.files));
    source = new DicomWebSource(client);
  }, 120000);
  afterAll(() => orthanc?.stop());

  it.each(REFUSALS)('refuses %s without its body part as not-knee with the reason', async (_, key, reason) => {
    await expect(locateStudy(source, real[key].uid)).rejects.toMatchObject({ code: 'not-knee', reason: expect.stringMatching(reason) });
  });

  it('confirms the knee from a German SeriesDescription, the RequestedProcedureDescription or the Anatomic Region Sequence alone', async () => {
    expect((await locateStudy(source, german.uid)).knee).toEqual({ by: 'dicom-attributes', evidence: "SeriesDescription 'Knie a.p.'" });
    expect((await locateStudy(source, requested.uid)).knee).toEqual({ by: 'dicom-attributes', evidence: "RequestedProcedureDescription 'Röntgen Knie rechts'" });
    // Orthanc 1.10 leaves sequences out of QIDO-RS answers: this one comes from the series' WADO-RS metadata.
    expect((await locateStudy(source, coded.uid)).knee).toEqual({ by: 'dicom-attributes', evidence: "Anatomic Region Sequence 72696002 (SCT) 'Knee'" });
  });
});

describe('the locate step over a folder', () => {
  it('confirms the knee from the Anatomic Region Sequence alone', async () => {
    const coded = twoViewStudy(phantom.ap, 10, { ...PHANTOM_UNCONFIRMED, AnatomicRegionSequence: KNEE_REGION }, {}, phantom.lateral);
    const located = await locateStudy(new FolderSource(await folderOf('coded', coded)), coded.uid);
    expect(located.knee).toEqual({ by: 'dicom-attributes', evidence: "Anatomic Region Sequence 72696002 (SCT) 'Knee'" });
    expect(located.flags).toEqual([]);
  });
});

describe('the service: the order a study was made for', () => {
  it('confirms the knee when the ImagingStudy is basedOn a knee radiograph order, and refuses the same images ordered as a chest', async () => {
    const service = await startDetectorService();
    const { fhir, settled } = service;
    try {
      const ordered = { knee: unconfirmedPhantom(8), chest: unconfirmedPhantom(9) };
      await service.pacs.storeInstances([...ordered.knee.files, ...ordered.chest.files]);
      const patient = await fhir.create<Patient>({ resourceType: 'Patient', gender: 'male', birthDate: '2009-05-01' });
      const order = (loinc: string, display: string) =>
        fhir.create<ServiceRequest>({
          resourceType: 'ServiceRequest',
          status: 'completed',
          intent: 'order',
          subject: { reference: `Patient/${patient.id}` },
          code: { coding: [{ system: 'http://loinc.org', code: loinc, display }] },
        });
      const orders = { knee: await order('24806-2', 'XR Knee 2 Views'), chest: await order('36643-5', 'XR Chest 2 Views') };
      for (const key of ['knee', 'chest'] as const) {
        await fhir.create<ImagingStudy>({
          resourceType: 'ImagingStudy',
          status: 'available',
          subject: { reference: `Patient/${patient.id}` },
          basedOn: [{ reference: `ServiceRequest/${orders[key].id}` }],
          identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${ordered[key].uid}` }],
        });
        await service.trigger(ordered[key].uid);
      }
      expect(await settled(ordered.knee.uid)).toMatchObject({ state: 'done' });
      expect(await settled(ordered.chest.uid)).toMatchObject({
        state: 'failed',
        errorCode: 'not-knee',
        errorReason: expect.stringContaining('no knee radiograph order is known for the study'),
      });
    } finally {
      await service.stop();
    }
  }, 120000);
});
