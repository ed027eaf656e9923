/** The DICOM attributes the pipeline reads, by keyword, as dicom-parser's `xGGGGEEEE` keys. */
export const TAG = {
  TransferSyntaxUID: 'x00020010',
  ImageType: 'x00080008',
  SOPClassUID: 'x00080016',
  SOPInstanceUID: 'x00080018',
  Modality: 'x00080060',
  Manufacturer: 'x00080070',
  StudyDescription: 'x00081030',
  SeriesDescription: 'x0008103e',
  ManufacturerModelName: 'x00081090',
  PatientID: 'x00100020',
  BodyPartExamined: 'x00180015',
  ProtocolName: 'x00181030',
  ViewPosition: 'x00185101',
  StudyInstanceUID: 'x0020000d',
  SeriesInstanceUID: 'x0020000e',
  SeriesNumber: 'x00200011',
  InstanceNumber: 'x00200013',
  Laterality: 'x00200060',
  ImageLaterality: 'x00200062',
  SamplesPerPixel: 'x00280002',
  PhotometricInterpretation: 'x00280004',
  NumberOfFrames: 'x00280008',
  Rows: 'x00280010',
  Columns: 'x00280011',
  BitsAllocated: 'x00280100',
  BitsStored: 'x00280101',
  HighBit: 'x00280102',
  PixelRepresentation: 'x00280103',
  WindowCenter: 'x00281050',
  WindowWidth: 'x00281051',
  RescaleIntercept: 'x00281052',
  RescaleSlope: 'x00281053',
  VOILUTFunction: 'x00281056',
  ModalityLUTSequence: 'x00283000',
  LUTDescriptor: 'x00283002',
  LUTData: 'x00283006',
  VOILUTSequence: 'x00283010',
  ViewCodeSequence: 'x00540220',
  CodeValue: 'x00080100',
  CodingSchemeDesignator: 'x00080102',
  CodeMeaning: 'x00080104',
  PixelData: 'x7fe00010',
} as const;

export type TagKeyword = keyof typeof TAG;

/** `x00185101` → `00185101`, the key of the DICOM JSON model (PS3.18 F.2). */
export function jsonKey(keyword: TagKeyword): string {
  return TAG[keyword].slice(1).toUpperCase();
}

export const TRANSFER_SYNTAX = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;
