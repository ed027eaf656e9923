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

/** VRs whose explicit VR element header holds 2 reserved bytes and a 4-byte length (PS3.5 7.1.2). */
const LONG_HEADER_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/**
 * Adds a string attribute that the file lacks (e.g. Presentation LUT Shape) to an Explicit VR
 * Little Endian file, in tag order before the first top-level element with a higher tag.
 */
export function insertString(file: Uint8Array, tag: string, vr: string, value: string): Uint8Array {
  const dataSet = dicomParser.parseDicom(file, { untilTag: 'x7fe00010' });
  if (dataSet.string('x00020010') !== '1.2.840.10008.1.2.1') throw new Error('insertString needs an Explicit VR Little Endian file');
  if (dataSet.elements[tag]) throw new Error(`${tag} is already in the file`);
  const next = Object.values(dataSet.elements)
    .filter((e) => e.tag > tag)
    .sort((a, b) => a.dataOffset - b.dataOffset)[0];
  if (!next?.vr) throw new Error(`no element follows ${tag}`);
  const at = next.dataOffset - (LONG_HEADER_VRS.has(next.vr) ? 12 : 8);
  const padded = value.length % 2 ? `${value} ` : value;
  const element = Buffer.alloc(8 + padded.length);
  element.writeUInt16LE(Number.parseInt(tag.slice(1, 5), 16), 0);
  element.writeUInt16LE(Number.parseInt(tag.slice(5, 9), 16), 2);
  element.write(vr, 4, 'latin1');
  element.writeUInt16LE(padded.length, 6);
  element.write(padded, 8, 'latin1');
  return new Uint8Array(Buffer.concat([file.subarray(0, at), element, file.subarray(at)]));
}
