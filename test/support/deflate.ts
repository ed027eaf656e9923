/**
 * Re-encodes an Explicit VR Little Endian Part 10 file as Deflated Explicit VR Little Endian
 * (1.2.840.10008.1.2.1.99): the same meta header with the new transfer syntax, then the data set
 * compressed with raw deflate (PS3.5 A.5).
 */
import { deflateRawSync } from 'node:zlib';
import * as dicomParser from 'dicom-parser';

const DEFLATED = '1.2.840.10008.1.2.1.99';

function element(group: number, elementNumber: number, vr: string, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function uidValue(uid: string): Buffer {
  return Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
}

/** The file's meta header (preamble included) rewritten for another transfer syntax, and where its data set starts. */
export function metaHeaderFor(file: Uint8Array, transferSyntaxUid: string): { meta: Buffer; dataSetStart: number } {
  const meta = dicomParser.readPart10Header(file);
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const metaEnd = (meta.elements.x00020000?.dataOffset ?? 0) + 4 + (meta.uint32('x00020000') ?? 0);
  const string = (tag: string) => meta.string(tag) ?? '';
  const elements = Buffer.concat([
    element(0x0002, 0x0002, 'UI', uidValue(string('x00020002'))),
    element(0x0002, 0x0003, 'UI', uidValue(string('x00020003'))),
    element(0x0002, 0x0010, 'UI', uidValue(transferSyntaxUid)),
    element(0x0002, 0x0012, 'UI', uidValue(string('x00020012') || '1.2.826.0.1.3680043.9.7156')),
  ]);
  // (0002,0001) is OB: 2-byte reserved field and a 4-byte length.
  const version = Buffer.from([0x02, 0x00, 0x01, 0x00, 0x4f, 0x42, 0, 0, 2, 0, 0, 0, 0x00, 0x01]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.writeUInt16LE(0x0000, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(version.length + elements.length, 8);
  const preamble = bytes.subarray(0, 132);
  return { meta: Buffer.concat([preamble, groupLength, version, elements]), dataSetStart: metaEnd };
}

export function deflateExplicitLittleEndian(file: Uint8Array): Uint8Array {
  const { meta, dataSetStart } = metaHeaderFor(file, DEFLATED);
  return new Uint8Array(Buffer.concat([meta, deflateRawSync(file.subarray(dataSetStart))]));
}
