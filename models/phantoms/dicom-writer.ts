/// <reference path="./dcmjs.d.ts" />
/**
 * Writes one view as a DICOM Part 10 file (Explicit VR Little Endian) with dcmjs: CR Image
 * Storage or Digital X-Ray Image Storage - For Presentation, and the tags the pipeline reads to
 * find the views and to present the pixels (VOI window, rescale, photometric interpretation).
 */
import { data } from 'dcmjs';
import type { DetectorImage } from './detector';
import type { PatientPlan, ViewPlan } from './plan';

export const CR_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.1';
export const DX_PRESENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.1.1';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Identifies this writer in the file meta; a fixed UID so that files stay byte-identical. */
const IMPLEMENTATION_CLASS_UID = '2.25.305460771863127785634207553063517394411';
const IMPLEMENTATION_VERSION = 'KNEEPHANTOM_1';

function patientAge(years: number): string {
  return `${String(Math.min(999, Math.floor(years))).padStart(3, '0')}Y`;
}

/** Row/column directions of the displayed image in patient terms (PS3.3 C.7.6.1.1.1). */
function patientOrientation(plan: PatientPlan, view: ViewPlan): [string, string] {
  if (view.view === 'AP') return ['L', 'F'];
  return [plan.laterality === 'R' ? 'A' : 'P', 'F'];
}

export function writeViewDicom(plan: PatientPlan, view: ViewPlan, image: DetectorImage, width: number, height: number): Uint8Array {
  const modality = plan.device.modality;
  const sopClassUid = modality === 'CR' ? CR_IMAGE_STORAGE : DX_PRESENTATION_STORAGE;
  const d = view.detector;
  const lateral = view.view === 'LATERAL';
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: view.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  };
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['ORIGINAL', 'PRIMARY'],
    SOPClassUID: sopClassUid,
    SOPInstanceUID: view.sopInstanceUid,
    StudyDate: plan.studyDate,
    SeriesDate: plan.studyDate,
    ContentDate: plan.studyDate,
    StudyTime: plan.studyTime,
    SeriesTime: view.acquisitionTime,
    ContentTime: view.acquisitionTime,
    AccessionNumber: plan.accessionNumber,
    Modality: modality,
    Manufacturer: plan.device.manufacturer,
    InstitutionName: plan.center.name,
    ReferringPhysicianName: '',
    StudyDescription: 'XR KNEE 2 VIEWS',
    SeriesDescription: lateral ? 'KNEE LAT' : 'KNEE AP',
    ManufacturerModelName: plan.device.model,
    PatientName: plan.patientName,
    PatientID: plan.patientId,
    PatientBirthDate: plan.birthDate,
    PatientSex: plan.sex,
    PatientAge: patientAge(plan.ageYears),
    PatientIdentityRemoved: 'YES',
    DeidentificationMethod: 'Synthetic phantom, no real patient',
    BodyPartExamined: 'KNEE',
    ProtocolName: lateral ? `KNEE LATERAL ${plan.laterality}` : `KNEE AP ${plan.laterality}`,
    ViewPosition: view.viewPosition,
    StudyInstanceUID: plan.studyInstanceUid,
    SeriesInstanceUID: view.seriesInstanceUid,
    StudyID: '1',
    SeriesNumber: view.seriesNumber,
    InstanceNumber: 1,
    PatientOrientation: patientOrientation(plan, view),
    Laterality: plan.laterality,
    ImageLaterality: plan.laterality,
    BurnedInAnnotation: 'NO',
    SamplesPerPixel: 1,
    PhotometricInterpretation: d.photometric,
    Rows: height,
    Columns: width,
    PixelSpacing: [view.spacingMm, view.spacingMm],
    ImagerPixelSpacing: [view.spacingMm, view.spacingMm],
    BitsAllocated: 16,
    BitsStored: d.bitsStored,
    HighBit: d.bitsStored - 1,
    PixelRepresentation: 0,
    WindowCenter: image.windowCenter,
    WindowWidth: image.windowWidth,
    RescaleIntercept: d.rescaleIntercept,
    RescaleSlope: d.rescaleSlope,
    RescaleType: 'US',
    LossyImageCompression: '00',
    PixelData: [image.pixels.buffer.slice(image.pixels.byteOffset, image.pixels.byteOffset + image.pixels.byteLength)],
    _vrMap: { PixelData: 'OW' },
  };
  if (modality === 'DX') {
    dataset.PresentationIntentType = 'FOR PRESENTATION';
    dataset.DetectorType = 'SCINTILLATOR';
    dataset.PixelIntensityRelationship = 'LOG';
    // +1: lower values mean less X-ray intensity (more attenuation), as in MONOCHROME1
    dataset.PixelIntensityRelationshipSign = d.photometric === 'MONOCHROME1' ? 1 : -1;
  }
  const dict = new data.DicomDict(data.DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
