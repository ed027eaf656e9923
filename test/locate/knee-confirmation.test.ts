/**
 * The knee must be confirmed before a study is analysed: by its attributes (BodyPartExamined,
 * the Anatomic Region Sequence, the descriptions in the languages sites use), by the order it was
 * made for, or by a site that accepts unconfirmed studies. The rules alone, without servers; the
 * same rules on real files over a folder, DICOMweb and the service are in knee-confirmation-real.
 */
import { namesKnee, readBodyPart } from '../../server/src/pipeline/knee-confirmation';
import { selectViews } from '../../server/src/pipeline/locate-study';
import type { ViewCandidate } from '../../server/src/domain/view-candidate';
import { radiograph, STUDY } from '../support/view-candidates';

const twoViews = (attributes: Partial<ViewCandidate>, lateral: Partial<ViewCandidate> = attributes) => [
  radiograph({ viewPosition: 'AP', ...attributes }),
  radiograph({ viewPosition: 'LL', ...lateral }),
];
const refusal = (candidates: ViewCandidate[], policy = {}) => {
  try {
    selectViews(STUDY, candidates, policy);
  } catch (error) {
    return error as { code: string; reason: string };
  }
  throw new Error('the study was not refused');
};

describe('the knee named in a description', () => {
  it.each([
    'XR KNEE 2 VIEWS', 'R_KNEE_LAT', 'Knie a.p.', 'Kniegelenk li. in 2 Ebenen', 'knie links (NL)', 'kniegewricht', 'GENOU FACE', 'Rodilla AP',
    'Ginocchio dx', 'Joelho esquerdo', '膝关节正位', '右膝関節 2方向', 'Knä höger', 'knäled', 'Knæ sin.', 'kne høyre', 'RTG stawu kolanowego',
    'Kolano lewe', 'Diz grafisi',
  ])('%s names the knee', (text) => {
    expect(namesKnee(text)).toBe(true);
  });

  it.each(['Kneeling view', 'knien', 'KNEECAP', 'Dizziness', 'Non-ossifying fibroma of distal tibia', 'CHEST PA', 'Genoa', ''])('%s does not', (text) => {
    expect(namesKnee(text)).toBe(false);
  });
});

describe('what the attributes of one image say', () => {
  it('takes KNEE, a knee code of the Anatomic Region Sequence or a description naming the knee', () => {
    expect(readBodyPart(radiograph({ bodyPartExamined: 'KNEE' }))).toEqual({ kind: 'knee', evidence: 'BodyPartExamined KNEE' });
    for (const code of [
      { value: '72696002', scheme: 'SCT', meaning: 'Knee' },
      { value: 'T-D9200', scheme: 'SRT', meaning: 'Knee' },
      { value: '49076000', scheme: 'SCT', meaning: 'Knee joint' },
      { value: '82169009', scheme: 'SCT', meaning: 'Left knee region' },
      { value: '999', scheme: '99LOCAL', meaning: 'Genou' },
    ]) {
      expect(readBodyPart(radiograph({ anatomicRegions: [code] })).kind).toBe('knee');
    }
    expect(readBodyPart(radiograph({ requestedProcedureDescription: 'Röntgen Knie rechts' }))).toEqual({ kind: 'knee', evidence: "RequestedProcedureDescription 'Röntgen Knie rechts'" });
  });

  it('reads a BodyPartExamined that writes the side with the knee in one word', () => {
    for (const part of ['LKNEE', 'KNEE_RT', 'Knee joint', 'KNIE']) expect(readBodyPart(radiograph({ bodyPartExamined: part })).kind).toBe('knee');
    expect(readBodyPart(radiograph({ bodyPartExamined: 'KNEECAP' })).kind).toBe('other');
  });

  it('does not take EXTREMITY, LEG or the lower leg for a knee', () => {
    expect(readBodyPart(radiograph({ bodyPartExamined: 'EXTREMITY' })).kind).toBe('unconfirmed');
    expect(readBodyPart(radiograph({ anatomicRegions: [{ value: '61685007', scheme: 'SCT', meaning: 'Lower limb' }] })).kind).toBe('unconfirmed');
    for (const part of ['LEG', 'LOWERLEG', 'ANKLE', 'HIP', 'PELVIS', 'CHEST', 'TIBIA']) {
      expect(readBodyPart(radiograph({ bodyPartExamined: part }))).toEqual({ kind: 'other', evidence: `BodyPartExamined ${part}` });
    }
  });

  it('lets a coded other part outweigh a description naming the knee, and says so', () => {
    expect(readBodyPart(radiograph({ bodyPartExamined: 'CHEST', seriesDescription: 'Knee AP' }))).toEqual({
      kind: 'other',
      evidence: 'BodyPartExamined CHEST',
      despite: "SeriesDescription 'Knee AP'",
    });
    const coded = readBodyPart(radiograph({ bodyPartExamined: 'KNEE', anatomicRegions: [{ value: '29836001', scheme: 'SCT', meaning: 'Hip' }] }));
    expect(coded).toMatchObject({ kind: 'other', evidence: "Anatomic Region Sequence 29836001 (SCT) 'Hip'" });
  });

  it('reads another region named by a description only where nothing names the knee', () => {
    expect(readBodyPart(radiograph({ studyDescription: 'THORAX' }))).toEqual({ kind: 'other', evidence: "StudyDescription 'THORAX'" });
    expect(readBodyPart(radiograph({ studyDescription: 'KNEE AND HIP' })).kind).toBe('knee');
  });

  it('masks the PatientID should a description hold it', () => {
    const reading = readBodyPart(radiograph({ patientId: 'PAT-0042', studyDescription: 'PAT-0042 follow-up' }));
    expect(reading).toMatchObject({ kind: 'unconfirmed', lookedAt: expect.stringContaining("'[PatientID] follow-up'") });
    expect(JSON.stringify(reading)).not.toContain('PAT-0042');
  });
});

describe('a study is analysed only when the knee is confirmed', () => {
  it('refuses a study whose attributes say nothing, naming what it looked at and the site setting', () => {
    const error = refusal(twoViews({ seriesDescription: 'PA' }, { seriesDescription: 'LAT' }));
    expect(error.code).toBe('not-knee');
    expect(error.reason).toMatch(/^the knee is not confirmed: BodyPartExamined absent, Anatomic Region Sequence absent, SeriesDescription 'PA'; /);
    expect(error.reason).toContain("SeriesDescription 'LAT'");
    expect(error.reason).toContain('analysis.acceptUnconfirmedBodyPart');
  });

  it('refuses EXTREMITY and LEG by default', () => {
    expect(refusal(twoViews({ bodyPartExamined: 'EXTREMITY' })).reason).toContain('BodyPartExamined EXTREMITY (does not name the knee)');
    expect(refusal(twoViews({ bodyPartExamined: 'LEG' })).reason).toBe('the radiographs show another body part (2 BodyPartExamined LEG), not a knee');
  });

  it('analyses EXTREMITY when a description names the knee', () => {
    const located = selectViews(STUDY, twoViews({ bodyPartExamined: 'EXTREMITY', studyDescription: 'Knie 2 Ebenen' }));
    expect(located.knee).toEqual({ by: 'dicom-attributes', evidence: "StudyDescription 'Knie 2 Ebenen'" });
    expect(located.flags).toEqual([]);
  });

  it('with the site setting, analyses an unconfirmed study and flags it, but never another part', () => {
    const located = selectViews(STUDY, twoViews({ bodyPartExamined: 'EXTREMITY' }), { acceptUnconfirmedBodyPart: true });
    expect(located.knee.by).toBe('site-setting');
    expect(located.flags).toEqual([{ code: 'body-part-unconfirmed', message: expect.stringMatching(/^the knee is not confirmed \(BodyPartExamined EXTREMITY/) }]);
    expect(refusal(twoViews({ bodyPartExamined: 'LEG' }), { acceptUnconfirmedBodyPart: true }).code).toBe('not-knee');
    expect(refusal(twoViews({ studyDescription: 'CHEST PA' }), { acceptUnconfirmedBodyPart: true }).reason).toContain("StudyDescription 'CHEST PA'");
  });

  it('refuses conflicting labels, saying which outweighed which', () => {
    expect(refusal(twoViews({ bodyPartExamined: 'HIP', seriesDescription: 'KNEE AP' })).reason).toBe(
      "the radiographs show another body part (2 BodyPartExamined HIP, though SeriesDescription 'KNEE AP' names the knee), not a knee",
    );
  });

  it('takes a knee radiograph order as confirmation, but not against a coded other part', () => {
    const order = 'ServiceRequest/7 (XR Knee 2 Views)';
    const located = selectViews(STUDY, twoViews({}), { kneeOrder: order });
    expect(located.knee).toEqual({ by: 'order', evidence: order });
    expect(located.flags).toEqual([]);
    expect(refusal(twoViews({ bodyPartExamined: 'CHEST' }), { kneeOrder: order }).code).toBe('not-knee');
  });

  it('analyses a study one view of which names the knee, and flags the view that does not', () => {
    const located = selectViews(STUDY, twoViews({ seriesDescription: 'Knie a.p.' }, { seriesDescription: 'seitlich' }));
    expect(located.knee).toEqual({ by: 'dicom-attributes', evidence: "SeriesDescription 'Knie a.p.'" });
    expect(located.flags).toEqual([{ code: 'body-part-unconfirmed', message: expect.stringMatching(/^the lateral view does not name the knee itself/) }]);
  });

  it('refuses the knee check before looking for views, so a hip without view labels is not-knee, not view-missing', () => {
    expect(refusal([radiograph({ studyDescription: 'HIP JOINT' })]).code).toBe('not-knee');
    expect(refusal([radiograph({})]).code).toBe('not-knee');
  });
});
