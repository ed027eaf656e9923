/** Which DICOM images the method accepts: projection radiographs (CR, DX), never CT, MR and so on. */
import { KneeTumorError } from '../errors';

export const RADIOGRAPH_MODALITIES: ReadonlySet<string> = new Set(['CR', 'DX', 'RG']);

const MODALITY_NAMES: Record<string, string> = {
  CT: 'a CT image',
  MR: 'an MR image',
  US: 'an ultrasound image',
  NM: 'a nuclear medicine image',
  PT: 'a PET image',
  MG: 'a mammogram',
  XA: 'an angiography image',
  RF: 'a fluoroscopy image',
  SR: 'a structured report',
  PR: 'a presentation state',
  KO: 'a key object selection',
  OT: 'an image of unknown modality (OT)',
};

export function describeModality(modality: string): string {
  return MODALITY_NAMES[modality] ?? (modality ? `a ${modality} object` : 'an object without a modality');
}

export function assertRadiograph(modality: string): void {
  if (!RADIOGRAPH_MODALITIES.has(modality)) {
    throw new KneeTumorError('not-radiograph', `${describeModality(modality)} is not a radiograph; the method needs CR or DX knee radiographs`);
  }
}
