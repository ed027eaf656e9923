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
