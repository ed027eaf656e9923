import { selectViews } from '../../server/src/pipeline/locate-study';
import type { ViewCandidate } from '../../server/src/domain/view-candidate';
import { radiograph, STUDY } from '../support/view-candidates';

/** A DX knee radiograph: the view rules, with the body part confirmed. */
const image = (attributes: Partial<ViewCandidate>): ViewCandidate => radiograph({ modality: 'DX', bodyPartExamined: 'KNEE', ...attributes });

describe('selecting the AP and lateral views of a knee study', () => {
  it('takes the views from ViewPosition and the laterality from ImageLaterality', () => {
    const ap = image({ viewPosition: 'AP', imageLaterality: 'L' });
    const lateral = image({ viewPosition: 'LL', imageLaterality: 'L' });
    const located = selectViews(STUDY, [lateral, ap]);
    expect(located.views.AP.candidate).toBe(ap);
    expect(located.views.LATERAL.candidate).toBe(lateral);
    expect(located.views.AP.laterality).toBe('L');
    expect(located.flags).toEqual([]);
  });

  it('falls back to SeriesDescription, ProtocolName and the View Code Sequence, and says so', () => {
    const ap = image({ seriesDescription: 'KNEE AP STANDING' });
    const lateral = image({ viewCodes: [{ value: 'R-10236', meaning: 'medio-lateral' }] });
    const located = selectViews(STUDY, [ap, lateral]);
    expect(located.views.AP.candidate).toBe(ap);
    expect(located.views.LATERAL.candidate).toBe(lateral);
    expect(located.flags.map((f) => f.code)).toEqual(['view-from-fallback-attribute', 'view-from-fallback-attribute']);
    const byProtocol = selectViews(STUDY, [image({ protocolName: 'Knee Lat' }), image({ viewPosition: 'PA' })]);
    expect(byProtocol.views.LATERAL.evidence).toBe('ProtocolName');
  });

  it('does not read BILATERAL as a lateral view label', () => {
    const located = selectViews(STUDY, [image({ viewPosition: 'AP' }), image({ seriesDescription: 'BILATERAL KNEES' })]);
    expect(located.views.LATERAL.evidence).toBe('the only unlabelled radiograph');
    expect(located.flags.map((f) => f.code)).toContain('ambiguous-view-labels');
  });

  it('refuses a study without a lateral view, naming what it found', () => {
    expect(() => selectViews(STUDY, [image({ viewPosition: 'AP' }), image({ viewPosition: 'AP' })])).toThrow(
      expect.objectContaining({ code: 'view-missing', reason: expect.stringMatching(/lateral view is missing.*AP found/) }),
    );
  });

  it('refuses a CT or MR study, and ignores a non-image object beside the radiographs', () => {
    expect(() => selectViews(STUDY, [image({ modality: 'CT' }), image({ modality: 'CT' })])).toThrow(
      expect.objectContaining({ code: 'not-radiograph', reason: expect.stringContaining('2 CT image') }),
    );
    const located = selectViews(STUDY, [image({ modality: 'SR' }), image({ viewPosition: 'AP' }), image({ viewPosition: 'LAT' })]);
    expect(located.views.LATERAL.candidate.viewPosition).toBe('LAT');
  });

  it('refuses radiographs of another body part', () => {
    expect(() => selectViews(STUDY, [image({ bodyPartExamined: 'CHEST', viewPosition: 'PA' }), image({ bodyPartExamined: 'CHEST', viewPosition: 'LL' })])).toThrow(
      expect.objectContaining({ code: 'not-knee', reason: expect.stringContaining('CHEST') }),
    );
    expect(() => selectViews(STUDY, [image({ bodyPartExamined: undefined, studyDescription: 'XR HAND 2 VIEWS', viewPosition: 'PA' })])).toThrow(
      expect.objectContaining({ code: 'not-knee' }),
    );
  });

  it('analyses a study with ambiguous labels and flags it', () => {
    const conflicting = image({ viewPosition: 'AP', seriesDescription: 'KNEE LAT' });
    const unlabelled = image({});
    const located = selectViews(STUDY, [conflicting, unlabelled]);
    expect(located.views.AP.candidate).toBe(conflicting);
    expect(located.views.LATERAL.candidate).toBe(unlabelled);
    expect(located.flags.filter((f) => f.code === 'ambiguous-view-labels')).toHaveLength(2);
  });

  it('flags two images for one view and laterality that differs', () => {
    const located = selectViews(STUDY, [
      image({ viewPosition: 'AP', imageLaterality: 'R', seriesNumber: 2 }),
      image({ viewPosition: 'AP', imageLaterality: 'R', seriesNumber: 1 }),
      image({ viewPosition: 'RL', imageLaterality: 'L' }),
    ]);
    expect(located.views.AP.candidate.seriesNumber).toBe(1);
    expect(located.flags.map((f) => f.code).sort()).toEqual(['laterality-mismatch', 'multiple-candidates']);
  });

  it('refuses an empty study', () => {
    expect(() => selectViews(STUDY, [])).toThrow(expect.objectContaining({ code: 'study-not-found' }));
  });
});

/** Patient 1's AP beside patient 4's lateral under one StudyInstanceUID, both left knees (issue 19). */
const FIRST = { patientId: 'PHANTOM-00001-000000', patientName: 'PHANTOM^KNEE^000000', patientBirthDate: '19800428', patientSex: 'F' };
const FOURTH = { patientId: 'PHANTOM-00001-000003', patientName: 'PHANTOM^KNEE^000003', patientBirthDate: '20100107', patientSex: 'F' };

describe('one patient, one study, one image per view', () => {
  const refusal = (candidates: ViewCandidate[]): { code?: string; reason?: string } => {
    try {
      selectViews(STUDY, candidates);
    } catch (error) {
      return error as { code: string; reason: string };
    }
    return {};
  };

  it('refuses views of two patients, naming the attributes that differ and never their values', () => {
    const { code, reason } = refusal([image({ ...FIRST, viewPosition: 'AP', imageLaterality: 'L' }), image({ ...FOURTH, viewPosition: 'LL', imageLaterality: 'L' })]);
    expect(code).toBe('study-inconsistent');
    expect(reason).toBe("the AP and lateral views differ in Patient ID, Patient's Name, Patient's Birth Date: they are not one patient's study");
    for (const value of [...Object.values(FIRST), ...Object.values(FOURTH)].filter((v) => v !== 'F')) expect(reason).not.toContain(value);
  });

  it('refuses views of one Patient ID from two issuers, and views of two studies', () => {
    expect(refusal([image({ patientId: '7', issuerOfPatientId: 'HOSPITAL-A', viewPosition: 'AP' }), image({ patientId: '7', issuerOfPatientId: 'HOSPITAL-B', viewPosition: 'LAT' })])).toEqual(
      expect.objectContaining({ code: 'study-inconsistent', reason: expect.stringContaining('differ in Issuer of Patient ID:') }),
    );
    const otherStudy = image({ viewPosition: 'LAT' });
    otherStudy.instance = { ...otherStudy.instance, studyInstanceUid: '1.2.4' };
    expect(refusal([image({ viewPosition: 'AP' }), otherStudy])).toEqual(expect.objectContaining({ code: 'study-inconsistent', reason: expect.stringContaining('differ in Study Instance UID:') }));
    expect(refusal([image({ patientSex: 'M', viewPosition: 'AP' }), image({ patientSex: 'F', viewPosition: 'LAT' })])).toEqual(
      expect.objectContaining({ code: 'study-inconsistent', reason: expect.stringContaining("differ in Patient's Sex:") }),
    );
  });

  it('compares only what both views state, and names as DICOM writes them alike', () => {
    const located = selectViews(STUDY, [
      image({ ...FIRST, viewPosition: 'AP' }),
      image({ patientId: FIRST.patientId, patientName: 'phantom^knee^000000^^=ファントム', viewPosition: 'LAT' }),
    ]);
    expect(located.patientId).toBe(FIRST.patientId);
  });

  it('refuses a study in which two images share a SOP Instance UID', () => {
    const ap = image({ viewPosition: 'AP' });
    const lateral = image({ viewPosition: 'LAT' });
    lateral.instance = { ...lateral.instance, sopInstanceUid: ap.instance.sopInstanceUid };
    expect(refusal([ap, lateral])).toEqual(expect.objectContaining({ code: 'study-inconsistent', reason: '2 images of the study share 1 SOP Instance UID(s); each image must have its own' }));
    expect(JSON.stringify(refusal([ap, lateral]))).not.toContain(ap.instance.sopInstanceUid);
  });
});

describe('radiograph SOP classes only', () => {
  const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
  const MAMMOGRAPHY = '1.2.840.10008.5.1.4.1.1.1.2';

  it('refuses a study whose images say CR but are a screenshot, a CT slice and a mammogram, naming each class', () => {
    expect(() =>
      selectViews(STUDY, [
        image({ modality: 'CR', sopClassUid: SECONDARY_CAPTURE, viewPosition: 'AP' }),
        image({ modality: 'CR', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', viewPosition: 'LAT' }),
        image({ modality: 'CR', sopClassUid: MAMMOGRAPHY, viewPosition: 'LAT' }),
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'not-radiograph',
        reason:
          'the study holds no radiograph (1 Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7) labelled CR, 1 CT Image Storage (1.2.840.10008.5.1.4.1.1.2) labelled CR, ' +
          '1 Digital Mammography X-Ray Image Storage - For Presentation (1.2.840.10008.5.1.4.1.1.1.2) labelled CR); the method needs CR or DX knee radiographs',
      }),
    );
  });

  it('names the image labelled DX that is no radiograph by SOP class when a view is missing, and ignores such an image beside two radiographs', () => {
    const ap = image({ viewPosition: 'AP' });
    expect(() => selectViews(STUDY, [ap, image({ modality: 'DX', sopClassUid: SECONDARY_CAPTURE, viewPosition: 'LAT' })])).toThrow(
      expect.objectContaining({
        code: 'view-missing',
        reason:
          'the lateral view is missing: the study has 1 knee radiograph(s) (AP found); it also holds 1 Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7) labelled DX, not a radiograph SOP Class',
      }),
    );
    const lateral = image({ viewPosition: 'LAT' });
    const located = selectViews(STUDY, [image({ sopClassUid: SECONDARY_CAPTURE, viewPosition: 'AP', seriesNumber: 0 }), ap, lateral]);
    expect([located.views.AP.candidate, located.views.LATERAL.candidate]).toEqual([ap, lateral]);
  });

  it('accepts CR Image Storage and both Digital X-Ray Image Storage classes, and no image whose class is unknown', () => {
    const processing = image({ sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1.1', viewPosition: 'LAT' });
    expect(selectViews(STUDY, [radiograph({ bodyPartExamined: 'KNEE', viewPosition: 'AP' }), processing]).views.LATERAL.candidate).toBe(processing);
    expect(() => selectViews(STUDY, [image({ sopClassUid: undefined, viewPosition: 'AP' }), image({ sopClassUid: '1.2.3.4', viewPosition: 'LAT' })])).toThrow(
      expect.objectContaining({ code: 'not-radiograph', reason: expect.stringContaining('(1 DX object without a SOP Class UID, 1 SOP Class 1.2.3.4 labelled DX)') }),
    );
  });
});
