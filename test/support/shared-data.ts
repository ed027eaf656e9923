import * as path from 'node:path';

/** The real DICOM radiographs beside the repository (../shared/data/dicom), used in place. */
export const SHARED_DICOM = path.resolve(__dirname, '../../../shared/data/dicom');
