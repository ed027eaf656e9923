/**
 * Splits a multipart/related body (PS3.18 8.7.1, RFC 2387) into its parts: the headers and the
 * bytes of each. WADO-RS answers instance retrievals in this form, one DICOM file per part.
 */
import { KneeTumorError } from '../errors';

export interface MultipartPart {
  headers: Record<string, string>;
  body: Uint8Array;
}

export function boundaryOf(contentType: string): string {
  const match = /boundary="?([^";,]+)"?/i.exec(contentType);
  if (!match?.[1]) throw new KneeTumorError('pacs-error', `the DICOMweb answer is not multipart (Content-Type ${contentType || 'missing'})`);
  return match[1];
}

function indexOf(haystack: Buffer, needle: Buffer, from: number): number {
  return haystack.indexOf(needle, from);
}

export function parseMultipart(body: Uint8Array, contentType: string): MultipartPart[] {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const parts: MultipartPart[] = [];
  let position = indexOf(buffer, delimiter, 0);
  while (position >= 0) {
    const afterDelimiter = position + delimiter.length;
    // "--" after the delimiter closes the body.
    if (buffer[afterDelimiter] === 0x2d && buffer[afterDelimiter + 1] === 0x2d) break;
    const headerEnd = indexOf(buffer, Buffer.from('\r\n\r\n'), afterDelimiter);
    const next = indexOf(buffer, delimiter, afterDelimiter);
    if (headerEnd < 0 || next < 0 || headerEnd > next) throw new KneeTumorError('pacs-error', 'the multipart DICOMweb answer is truncated');
    const headers: Record<string, string> = {};
    for (const line of buffer.subarray(afterDelimiter, headerEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    // The CRLF before the next delimiter belongs to the delimiter, not to the part.
    const bodyEnd = buffer[next - 2] === 0x0d && buffer[next - 1] === 0x0a ? next - 2 : next;
    parts.push({ headers, body: new Uint8Array(buffer.subarray(headerEnd + 4, bodyEnd)) });
    position = next;
  }
  return parts;
}
