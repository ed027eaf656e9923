/**
 * TEST DOUBLE OF THE DETECTOR ONLY. It finds the study's instances on the real PACS with QIDO-RS
 * (as the pipeline does, with the same error codes: pacs-unreachable, study-not-found) and returns
 * an AnalysisResult for them with a fixed lesion box on the lateral view, instead of running the
 * ONNX ensemble. Orthanc, HTTP, the job store and the FHIR engine stay real.
 */
import { AI_NOTICE, type AnalysisResult, type InstanceRef } from '../../server/src/domain/analysis';
import { KneeTumorError } from '../../server/src/errors';
import { TEST_MODEL } from './service-config';

type DicomJson = Record<string, { Value?: unknown[] }>;
const tag = (item: DicomJson, key: string) => String(item[key]?.Value?.[0] ?? '');

export function qidoAnalyse(dicomWebUrl: string): (studyInstanceUid: string) => Promise<AnalysisResult> {
  return async (studyInstanceUid) => {
    let response: Response;
    try {
      response = await fetch(`${dicomWebUrl}/studies/${studyInstanceUid}/instances`, { headers: { Accept: 'application/dicom+json' }, signal: AbortSignal.timeout(3000) });
    } catch (cause) {
      throw new KneeTumorError('pacs-unreachable', 'the PACS did not answer', { cause });
    }
    if (response.status >= 500) throw new KneeTumorError('pacs-error', `QIDO-RS answered ${response.status}`);
    const instances = response.status === 204 || response.status === 404 ? [] : ((await response.json()) as DicomJson[]);
    if (instances.length === 0) throw new KneeTumorError('study-not-found', 'the PACS has no such study');
    const refs: InstanceRef[] = instances.map((i) => ({ studyInstanceUid, seriesInstanceUid: tag(i, '0020000E'), sopInstanceUid: tag(i, '00080018') }));
    const ap = refs[0] as InstanceRef;
    const lateral = refs[1] ?? ap;
    const box = { x: 200, y: 180, width: 60, height: 48, confidence: 0.93, foldsAgreeing: 4, foldCount: 5 };
    return {
      kind: 'knee-tumor-analysis',
      schemaVersion: 1,
      studyInstanceUid,
      model: TEST_MODEL,
      operatingThreshold: 0.5,
      views: [
        { view: 'AP', instance: ap, imageSize: { width: 512, height: 512 }, boxes: [], score: 0, positive: false },
        { view: 'LATERAL', instance: lateral, imageSize: { width: 512, height: 512 }, boxes: [box], score: box.confidence, positive: true },
      ],
      patient: { score: box.confidence, positive: true },
      flags: [],
      aiGenerated: true,
      notice: AI_NOTICE,
      analysedAt: new Date().toISOString(),
    };
  };
}

/** STOW-RS of one Part 10 file; returns its StudyInstanceUID (from the stored instance's RetrieveURL). */
export async function stowFile(dicomWebUrl: string, bytes: Uint8Array): Promise<string> {
  const boundary = 'knee-tumor-test-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
    Buffer.from(bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const stored = await fetch(`${dicomWebUrl}/studies`, {
    method: 'POST',
    headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, Accept: 'application/dicom+json' },
    body,
  });
  if (!stored.ok) throw new Error(`STOW-RS failed: ${stored.status}`);
  const answer = (await stored.json()) as Record<string, { Value?: DicomJson[] }>;
  const instance = answer['00081199']?.Value?.[0] as DicomJson;
  const uid = /\/studies\/([0-9.]+)/.exec(tag(instance, '00081190'))?.[1];
  if (!uid) throw new Error('STOW-RS answer names no stored instance');
  return uid;
}
