/**
 * Which DICOM images the method accepts: projection radiographs, by Modality (CR, DX, RG) and by
 * SOP Class (CR or Digital X-Ray Image Storage), never CT, MR, a mammogram or a screenshot.
 */
import { KneeTumorError } from '../errors';

export const RADIOGRAPH_MODALITIES: ReadonlySet<string> = new Set(['CR', 'DX', 'RG']);

/**
 * The storage SOP Classes of a general projection radiograph (PS3.4 B.5). The other X-ray
 * classes are for other examinations (mammography, intra-oral, angiography, fluoroscopy), and a
 * Secondary Capture is a picture of an image, whatever its Modality says.
 */
export const RADIOGRAPH_SOP_CLASSES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.5.1.4.1.1.1', 'CR Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.1.1', 'Digital X-Ray Image Storage - For Presentation'],
  ['1.2.840.10008.5.1.4.1.1.1.1.1', 'Digital X-Ray Image Storage - For Processing'],
]);

/** Names of the other SOP Classes a knee study may meet, for refusals. */
const OTHER_SOP_CLASSES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.5.1.4.1.1.1.2', 'Digital Mammography X-Ray Image Storage - For Presentation'],
  ['1.2.840.10008.5.1.4.1.1.1.2.1', 'Digital Mammography X-Ray Image Storage - For Processing'],
  ['1.2.840.10008.5.1.4.1.1.1.3', 'Digital Intra-Oral X-Ray Image Storage - For Presentation'],
  ['1.2.840.10008.5.1.4.1.1.1.3.1', 'Digital Intra-Oral X-Ray Image Storage - For Processing'],
  ['1.2.840.10008.5.1.4.1.1.2', 'CT Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.2.1', 'Enhanced CT Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.4', 'MR Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.4.1', 'Enhanced MR Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.6.1', 'Ultrasound Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.7', 'Secondary Capture Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.7.1', 'Multi-frame Single Bit Secondary Capture Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.7.2', 'Multi-frame Grayscale Byte Secondary Capture Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.7.3', 'Multi-frame Grayscale Word Secondary Capture Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.7.4', 'Multi-frame True Color Secondary Capture Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.12.1', 'X-Ray Angiographic Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.12.2', 'X-Ray Radiofluoroscopic Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.13.1.3', 'Breast Tomosynthesis Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.20', 'Nuclear Medicine Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.128', 'Positron Emission Tomography Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.481.1', 'RT Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.77.1.4', 'VL Photographic Image Storage'],
  ['1.2.840.10008.5.1.4.1.1.104.1', 'Encapsulated PDF Storage'],
]);

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

/** "Secondary Capture Image Storage (1.2.840.10008.5.1.4.1.1.7)", the UID alone when the class is not a common one. */
export function describeSopClass(sopClassUid: string): string {
  const name = RADIOGRAPH_SOP_CLASSES.get(sopClassUid) ?? OTHER_SOP_CLASSES.get(sopClassUid);
  return name ? `${name} (${sopClassUid})` : `SOP Class ${sopClassUid}`;
}

/** Whether an image is a projection radiograph by both its Modality and its SOP Class. */
export function isRadiograph(image: { modality: string; sopClassUid?: string }): boolean {
  return RADIOGRAPH_MODALITIES.has(image.modality) && RADIOGRAPH_SOP_CLASSES.has(image.sopClassUid ?? '');
}

/** What an image that is not a radiograph is, e.g. "CT image" or "Secondary Capture Image Storage (…) labelled CR". */
export function describeNonRadiograph(image: { modality: string; sopClassUid?: string }): string {
  if (!RADIOGRAPH_MODALITIES.has(image.modality)) return describeModality(image.modality).replace(/^(a|an) /, '');
  return image.sopClassUid ? `${describeSopClass(image.sopClassUid)} labelled ${image.modality}` : `${image.modality} object without a SOP Class UID`;
}

export function assertRadiograph(image: { modality: string; sopClassUid?: string }): void {
  if (!RADIOGRAPH_MODALITIES.has(image.modality)) {
    throw new KneeTumorError('not-radiograph', `${describeModality(image.modality)} is not a radiograph; the method needs CR or DX knee radiographs`);
  }
  if (!isRadiograph(image)) {
    const what = image.sopClassUid ? `is ${describeSopClass(image.sopClassUid)}` : 'states no SOP Class UID';
    throw new KneeTumorError(
      'not-radiograph',
      `the image ${what}, not a radiograph SOP Class, though its Modality is ${image.modality}; the method needs CR or Digital X-Ray Image Storage`,
    );
  }
}
