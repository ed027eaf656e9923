/**
 * Views → the 8-bit images the detector sees before the letterbox. Retrieval asks for the stored
 * transfer syntax first and decodes it here; only when this syntax has no decoder does it ask the
 * server to transcode to Explicit VR Little Endian.
 */
import type { ImageLimits } from '../config';
import { DEFAULT_IMAGE_LIMITS } from '../dicom/integrity';
import { readPart10Image } from '../dicom/part10';
import { decodeFrame } from '../dicom/codecs';
import { toGray8 } from '../dicom/luts';
import { assertRadiograph } from '../dicom/radiograph';
import { TRANSFER_SYNTAX } from '../dicom/tags';
import { isKneeTumorError } from '../errors';
import type { Gray8Image } from '../imaging/gray8';
import type { InstanceRef } from '../domain/analysis';
import type { StudySource } from '../sources/study-source';
import { assertPlausible } from './plausibility';

/**
 * Decodes a Part 10 radiograph exactly as the method converts it (see dicom/luts.ts), through
 * every integrity check: the header within the site's limits and consistent, the frame decoded
 * completely, and the result a plausible image (plausibility.ts). Whatever fails is refused here,
 * so the detector, `convert` and the training-set writer never see a damaged image.
 */
export async function decodeForDetector(part10: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Gray8Image> {
  const { header, encodedFrame } = readPart10Image(part10, limits);
  assertRadiograph(header);
  const image = toGray8(header, await decodeFrame(header, encodedFrame));
  assertPlausible(image);
  return image;
}

export interface FetchedView {
  image: Gray8Image;
  /** The transfer syntax the pixels arrived in, and whether the server had to transcode. */
  transferSyntaxUid: string;
  transcodedByServer: boolean;
}

export async function fetchViewImage(source: StudySource, instance: InstanceRef, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<FetchedView> {
  const stored = await source.retrievePart10(instance, '*');
  try {
    return { image: await decodeForDetector(stored.bytes, limits), transferSyntaxUid: stored.transferSyntaxUid, transcodedByServer: false };
  } catch (error) {
    if (!(isKneeTumorError(error) && error.code === 'unsupported-transfer-syntax' && source.canTranscode)) throw error;
  }
  const transcoded = await source.retrievePart10(instance, TRANSFER_SYNTAX.ExplicitVRLittleEndian);
  return { image: await decodeForDetector(transcoded.bytes, limits), transferSyntaxUid: transcoded.transferSyntaxUid, transcodedByServer: true };
}
