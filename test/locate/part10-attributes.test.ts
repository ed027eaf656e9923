import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { part10Reader, readViewCandidate } from '../../server/src/dicom/candidate';
import { parsePart10 } from '../../server/src/dicom/part10';
import { SHARED_DICOM } from '../support/shared-data';

const candidateOf = (name: string) =>
  readViewCandidate(part10Reader(parsePart10(new Uint8Array(readFileSync(path.join(SHARED_DICOM, name))), { headerOnly: true })));

describe('view attributes read from a Part 10 header', () => {
  it('reads strings, binary and Integer String numbers from an explicit VR file', () => {
    const rg3 = candidateOf('RG3_512_explicitLE.dcm');
    expect(rg3).toMatchObject({ modality: 'CR', viewPosition: 'AP', laterality: 'R', bodyPartExamined: 'EXTREMITY', rows: 512, columns: 512 });
    expect(rg3.instanceNumber).toBeLessThan(1000);
  });

  it('reads Integer Strings as numbers in an implicit VR file, where no VR is stored', () => {
    const ct = candidateOf('CT-MONO2-16-ankle.dcm');
    expect(ct).toMatchObject({ modality: 'CT', rows: 512, columns: 512 });
    // A two-character IS such as "1 " must not be read as the 16-bit number 0x2031.
    expect(ct.seriesNumber === undefined || ct.seriesNumber < 1000).toBe(true);
    expect(ct.instanceNumber === undefined || ct.instanceNumber < 1000).toBe(true);
  });
});
