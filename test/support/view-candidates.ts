/** Radiographs of one study as the locate step sees them, for tests of the view and knee rules. */
import type { ViewCandidate } from '../../server/src/domain/view-candidate';
import { CR_IMAGE_STORAGE, DX_PRESENTATION_STORAGE } from '../../models/phantoms/dicom-writer';

export const STUDY = '1.2.3';
let counter = 0;

/**
 * A CR radiograph of STUDY (CR Image Storage; Digital X-Ray Image Storage when its modality is DX),
 * with its own series and instance, that says nothing else it is not told.
 */
export function radiograph(attributes: Partial<ViewCandidate>): ViewCandidate {
  counter += 1;
  return {
    instance: { studyInstanceUid: STUDY, seriesInstanceUid: `1.2.3.${counter}`, sopInstanceUid: `1.2.3.${counter}.1` },
    modality: 'CR',
    sopClassUid: attributes.modality === 'DX' ? DX_PRESENTATION_STORAGE : CR_IMAGE_STORAGE,
    anatomicRegions: [],
    viewCodes: [],
    ...attributes,
  };
}
