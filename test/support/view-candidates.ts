/** Radiographs of one study as the locate step sees them, for tests of the view and knee rules. */
import type { ViewCandidate } from '../../server/src/domain/view-candidate';

export const STUDY = '1.2.3';
let counter = 0;

/** A CR radiograph of STUDY, with its own series and instance, that says nothing it is not told. */
export function radiograph(attributes: Partial<ViewCandidate>): ViewCandidate {
  counter += 1;
  return {
    instance: { studyInstanceUid: STUDY, seriesInstanceUid: `1.2.3.${counter}`, sopInstanceUid: `1.2.3.${counter}.1` },
    modality: 'CR',
    anatomicRegions: [],
    viewCodes: [],
    ...attributes,
  };
}
