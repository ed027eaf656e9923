/// <reference path="../../models/phantoms/dcmjs.d.ts" />
/**
 * Test variants of a real DICOM file made with dcmjs: attributes removed, or set to values of
 * any length and VR (sequences too), where patchStrings (dicom-patch.ts) can only overwrite a
 * string in place. The pixel data, encapsulated fragments included, is written back unchanged.
 */
import { data } from 'dcmjs';
import { jsonKey, type TagKeyword } from '../../server/src/dicom/tags';

/** A new value by keyword (a string, or items for a sequence), or undefined to remove the attribute. */
export type AttributeChanges = Partial<Record<TagKeyword, string | Record<string, string>[] | undefined>>;

export function rewriteAttributes(file: Uint8Array, changes: AttributeChanges): Uint8Array {
  const dicom = data.DicomMessage.readFile(file.slice().buffer);
  for (const [keyword, value] of Object.entries(changes) as [TagKeyword, AttributeChanges[TagKeyword]][]) {
    if (value === undefined) delete dicom.dict[jsonKey(keyword)];
    else Object.assign(dicom.dict, data.DicomMetaDictionary.denaturalizeDataset({ [keyword]: value }));
  }
  return new Uint8Array(dicom.write({ fragmentMultiframe: false }));
}
