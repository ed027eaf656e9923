/**
 * Makes test variants of a real DICOM file by overwriting string attributes in place (the new
 * value is padded to the element's length, so the file stays valid): a lateral view from an AP
 * one, a chest, a study of another modality, new UIDs.
 */
import * as dicomParser from 'dicom-parser';

export function patchStrings(file: Uint8Array, values: Record<string, string>): Uint8Array {
  const copy = file.slice();
  const dataSet = dicomParser.parseDicom(copy, { untilTag: 'x7fe00010' });
  for (const [tag, value] of Object.entries(values)) {
    const element = dataSet.elements[tag];
    if (!element) throw new Error(`${tag} is not in the file`);
    if (value.length > element.length) throw new Error(`${tag}: "${value}" is longer than the element (${element.length})`);
    // UIDs are padded with NUL, other strings with spaces (PS3.5 6.2).
    const pad = element.vr === 'UI' ? 0 : 0x20;
    for (let i = 0; i < element.length; i++) copy[element.dataOffset + i] = i < value.length ? value.charCodeAt(i) : pad;
  }
  return copy;
}

/** A UID of the same length as `uid`, different in its last digits. */
export function variantUid(uid: string, n: number): string {
  const suffix = String(n);
  return uid.slice(0, uid.length - suffix.length) + suffix;
}
