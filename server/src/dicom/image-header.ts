/** What the pixel pipeline needs to know about an image, from any source of DICOM attributes. */

/** A lookup table of the Modality LUT or VOI LUT Sequence (PS3.3 C.11.1, C.11.2). */
export interface LookupTable {
  /** Stored (or modality) value mapped to the first entry. */
  firstMapped: number;
  bitsPerEntry: number;
  data: Uint16Array;
}

export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** The image's Presentation LUT Shape (2050,0020), PS3.3 C.11.6.1.2. */
export type PresentationLutShape = 'IDENTITY' | 'INVERSE';

export interface ImageHeader {
  transferSyntaxUid: string;
  sopClassUid: string;
  modality: string;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  numberOfFrames: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: 0 | 1;
  rescaleSlope: number;
  rescaleIntercept: number;
  modalityLut?: LookupTable;
  /** The image's own windows, first one preferred. */
  windows: { center: number; width: number }[];
  voiLutFunction: VoiLutFunction;
  voiLut?: LookupTable;
  /** Absent when the image does not state it (or states a hardcopy shape such as LIN OD). */
  presentationLutShape?: PresentationLutShape;
}
