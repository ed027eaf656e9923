/** The small part of dcmjs 0.51 (untyped) that the phantom writer and the tests' attribute rewriting use. */
declare module 'dcmjs' {
  type DicomJsonDataset = Record<string, { vr: string; Value?: unknown[] }>;

  interface DicomDictInstance {
    dict: DicomJsonDataset;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }

  export const data: {
    DicomDict: new (meta: DicomJsonDataset) => DicomDictInstance;
    DicomMessage: {
      readFile(buffer: ArrayBuffer): DicomDictInstance;
    };
    DicomMetaDictionary: {
      denaturalizeDataset(dataset: Record<string, unknown>): DicomJsonDataset;
    };
  };
}
