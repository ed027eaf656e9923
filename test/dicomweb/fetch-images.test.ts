/**
 * WADO-RS retrieval with transfer-syntax negotiation against a real Orthanc: the stored syntax is
 * asked for first and decoded here; a syntax without a decoder here (JPEG extended 12-bit, made by
 * Orthanc itself) is transcoded by the server on a second request.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { parsePart10 } from '../../server/src/dicom/part10';
import { decodeForDetector, fetchViewImage } from '../../server/src/pipeline/fetch-images';
import { DicomWebSource } from '../../server/src/sources/dicomweb-source';
import { FolderSource } from '../../server/src/sources/folder-source';
import type { InstanceRef } from '../../server/src/domain/analysis';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { SHARED_DICOM } from '../support/shared-data';

let orthanc: RunningOrthanc;
let client: DicomWebClient;
const original = new Uint8Array(readFileSync(path.join(SHARED_DICOM, 'RG3_512_explicitLE.dcm')));
const transcoded: Record<string, { bytes: Uint8Array; ref: InstanceRef }> = {};

function refOf(bytes: Uint8Array): InstanceRef {
  const header = parsePart10(bytes, { headerOnly: true });
  return {
    studyInstanceUid: header.string('x0020000d') as string,
    seriesInstanceUid: header.string('x0020000e') as string,
    sopInstanceUid: header.string('x00080018') as string,
  };
}

beforeAll(async () => {
  // GDCM's 12-bit JPEG decoder crashes Orthanc now and then; DCMTK's does not.
  orthanc = await startOrthanc({ gdcm: false });
  client = new DicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, timeoutMs: 20000 });
  // Orthanc 1.10 transcodes a file posted to its REST API; the same file stored over STOW-RS makes
  // its transcoder crash. The transcoded copies are then stored over STOW-RS like any PACS input.
  const { ID: id } = (await (await fetch(`${orthanc.url}/instances`, { method: 'POST', body: original })).json()) as { ID: string };
  for (const syntax of ['1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.51']) {
    const response = await fetch(`${orthanc.url}/instances/${id}/modify`, { method: 'POST', body: JSON.stringify({ Transcode: syntax }) }).catch((e) => {
      throw new Error(`${e}\n${orthanc.log()}`);
    });
    expect(response.status).toBe(200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    await client.storeInstances([bytes]);
    transcoded[syntax] = { bytes, ref: refOf(bytes) };
  }
});

afterAll(() => orthanc?.stop());

describe('fetching a view over WADO-RS', () => {
  it('takes the stored JPEG Lossless (process 14) stream and decodes the identical pixels here', async () => {
    const source = new DicomWebSource(client);
    const entry = transcoded['1.2.840.10008.1.2.4.57']!;
    const fetched = await fetchViewImage(source, entry.ref);
    expect(fetched.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.57');
    expect(fetched.transcodedByServer).toBe(false);
    expect(Buffer.from(fetched.image.data).equals(Buffer.from((await decodeForDetector(original)).data))).toBe(true);
  });

  it('asks the server to transcode a syntax that has no decoder here', async () => {
    const source = new DicomWebSource(client);
    const entry = transcoded['1.2.840.10008.1.2.4.51']!;
    const fetched = await fetchViewImage(source, entry.ref);
    expect(fetched.transcodedByServer).toBe(true);
    expect(fetched.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    // Lossy 12-bit JPEG: close to the original, not identical.
    const reference = await decodeForDetector(original);
    let total = 0;
    for (let i = 0; i < reference.data.length; i++) total += Math.abs((fetched.image.data[i] ?? 0) - (reference.data[i] ?? 0));
    expect(total / reference.data.length).toBeLessThan(3);
  });

  it('says why when a folder holds a syntax without a decoder here (a folder cannot transcode)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'folder-'));
    try {
      await writeFile(path.join(dir, 'image'), transcoded['1.2.840.10008.1.2.4.51']!.bytes);
      const source = new FolderSource(dir);
      await expect(fetchViewImage(source, transcoded['1.2.840.10008.1.2.4.51']!.ref)).rejects.toMatchObject({
        code: 'unsupported-transfer-syntax',
        reason: expect.stringContaining('1.2.840.10008.1.2.4.51'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
