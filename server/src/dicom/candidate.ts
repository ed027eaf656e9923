/** The view attributes of an image, from a Part 10 header or a DICOM JSON (QIDO-RS) object. */
import type * as dicomParser from 'dicom-parser';
import type { CodedEntry, ViewCandidate } from '../domain/view-candidate';
import { jsonKey, TAG, type TagKeyword } from './tags';

interface AttributeReader {
  string(keyword: TagKeyword): string | undefined;
  number(keyword: TagKeyword): number | undefined;
  codes(keyword: TagKeyword): CodedEntry[];
}

function trimmed(value: string | undefined): string | undefined {
  const t = value?.trim();
  return t ? t : undefined;
}

/** The numeric attributes read here that are binary (US); the others are Integer Strings (IS). */
const BINARY_US: ReadonlySet<TagKeyword> = new Set(['Rows', 'Columns']);

export function part10Reader(dataSet: dicomParser.DataSet): AttributeReader {
  return {
    string: (k) => trimmed(dataSet.string(TAG[k])),
    // By the attribute's VR in the dictionary: implicit VR files do not carry it.
    number: (k) => (BINARY_US.has(k) ? dataSet.uint16(TAG[k]) : dataSet.intString(TAG[k])),
    codes: (k) =>
      (dataSet.elements[TAG[k]]?.items ?? []).map((item) => ({
        value: trimmed(item.dataSet?.string(TAG.CodeValue)),
        scheme: trimmed(item.dataSet?.string(TAG.CodingSchemeDesignator)),
        meaning: trimmed(item.dataSet?.string(TAG.CodeMeaning)),
      })),
  };
}

/** A DICOM JSON object (PS3.18 F.2): `{ "00185101": { "vr": "CS", "Value": ["AP"] } }`. */
export type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

function firstValue(json: DicomJson, keyword: TagKeyword): unknown {
  return json[jsonKey(keyword)]?.Value?.[0];
}

export function dicomJsonReader(json: DicomJson): AttributeReader {
  return {
    string: (k) => {
      const value = firstValue(json, k);
      if (typeof value === 'string') return trimmed(value);
      if (typeof value === 'number') return String(value);
      // Person names come as { Alphabetic: "..." }.
      if (value && typeof value === 'object' && 'Alphabetic' in value) return trimmed(String((value as { Alphabetic: unknown }).Alphabetic));
      return undefined;
    },
    number: (k) => {
      const value = firstValue(json, k);
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number.parseFloat(value) : Number.NaN;
      return Number.isFinite(n) ? n : undefined;
    },
    codes: (k) =>
      (json[jsonKey(k)]?.Value ?? []).map((item) => {
        const reader = dicomJsonReader(item as DicomJson);
        return { value: reader.string('CodeValue'), scheme: reader.string('CodingSchemeDesignator'), meaning: reader.string('CodeMeaning') };
      }),
  };
}

export function readViewCandidate(reader: AttributeReader): ViewCandidate {
  return {
    instance: {
      studyInstanceUid: reader.string('StudyInstanceUID') ?? '',
      seriesInstanceUid: reader.string('SeriesInstanceUID') ?? '',
      sopInstanceUid: reader.string('SOPInstanceUID') ?? '',
    },
    patientId: reader.string('PatientID'),
    issuerOfPatientId: reader.string('IssuerOfPatientID'),
    patientName: reader.string('PatientName'),
    patientBirthDate: reader.string('PatientBirthDate'),
    patientSex: reader.string('PatientSex')?.toUpperCase(),
    modality: reader.string('Modality')?.toUpperCase() ?? '',
    sopClassUid: reader.string('SOPClassUID'),
    viewPosition: reader.string('ViewPosition'),
    imageLaterality: reader.string('ImageLaterality'),
    laterality: reader.string('Laterality'),
    bodyPartExamined: reader.string('BodyPartExamined'),
    seriesDescription: reader.string('SeriesDescription'),
    protocolName: reader.string('ProtocolName'),
    studyDescription: reader.string('StudyDescription'),
    requestedProcedureDescription: reader.string('RequestedProcedureDescription'),
    performedProcedureStepDescription: reader.string('PerformedProcedureStepDescription'),
    anatomicRegions: reader.codes('AnatomicRegionSequence'),
    viewCodes: reader.codes('ViewCodeSequence'),
    seriesNumber: reader.number('SeriesNumber'),
    instanceNumber: reader.number('InstanceNumber'),
    rows: reader.number('Rows'),
    columns: reader.number('Columns'),
  };
}
