/**
 * DICOMweb transport with the PACS credentials from configuration: QIDO-RS searches and WADO-RS
 * retrieval with transfer-syntax negotiation over axios, STOW-RS over dicomweb-client. (Its
 * retrieval and search calls cannot ask for a transfer syntax or repeat includefield: they throw
 * "Media type application/ is not supported" and encode the field list as one value.)
 * Every failure becomes a KneeTumorError: pacs-unreachable when the server cannot be reached or
 * does not answer in time, pacs-error for a transient status (with its Retry-After), study-not-found
 * for a 404 (all retryable); pacs-unauthorized when our credentials are refused, pacs-rejected for
 * any other refusal (not retryable: only a change of configuration or request helps). A 401 to an
 * access token this service obtained itself (pacs.auth oauth2-client-credentials) is tried once
 * more with a fresh token.
 */
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { api } from 'dicomweb-client';
import XHR2 from 'xhr2';
import { KneeTumorError } from '../errors';
import { answerKind, retryAfterMs } from '../transport';
import type { PacsConfig } from '../config';
import { authorizationHeaders, createCredentials, type Credentials } from '../credentials/credentials';
import type { InstanceRef } from '../domain/analysis';
import type { DicomJson } from '../dicom/candidate';
import { parseMultipart } from './multipart';

// dicomweb-client is written for browsers; in Node it needs an XMLHttpRequest.
(globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= XHR2;

/** The HTTP status of a failed request: axios errors carry a response, XMLHttpRequests a status. */
function failureStatus(error: unknown): number | undefined {
  if (isAxiosError(error)) return error.response?.status;
  if (error && typeof error === 'object' && 'status' in error && typeof error.status === 'number') return error.status || undefined;
  if (error && typeof error === 'object' && 'request' in error) return failureStatus(error.request);
  return undefined;
}

function failureRetryAfter(error: unknown): number | undefined {
  if (!isAxiosError(error)) return undefined;
  const header: unknown = error.response?.headers['retry-after'];
  return retryAfterMs(typeof header === 'string' ? header : undefined);
}

export class DicomWebClient {
  readonly baseUrl: string;
  private readonly http: AxiosInstance;
  private readonly credentials: Credentials;
  private readonly timeoutMs: number;

  constructor(pacs: PacsConfig) {
    this.baseUrl = pacs.dicomWebUrl.replace(/\/+$/, '');
    this.timeoutMs = pacs.timeoutMs;
    this.credentials = createCredentials(pacs.auth, { system: 'pacs', baseUrl: this.baseUrl, timeoutMs: pacs.timeoutMs });
    this.http = axios.create({ baseURL: this.baseUrl, timeout: pacs.timeoutMs, maxRedirects: 0 });
  }

  /** Sends with the current credentials; a token the PACS refuses with 401 is renewed and sent once more. */
  private async authorized<T>(request: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    const authorization = await this.credentials.authorization();
    try {
      return await request(authorizationHeaders(authorization));
    } catch (error) {
      if (failureStatus(error) !== 401 || !this.credentials.refused(authorization)) throw error;
      return request(authorizationHeaders(await this.credentials.authorization()));
    }
  }

  /** One exchange with the PACS, the token request included, bounded by pacs.timeoutMs. */
  private async call<T>(what: string, request: (headers: Record<string, string>) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KneeTumorError('pacs-unreachable', `${what}: no answer from ${this.baseUrl} within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([this.authorized(request), timeout]);
    } catch (error) {
      if (error instanceof KneeTumorError) throw error;
      const status = failureStatus(error);
      if (status === undefined) throw new KneeTumorError('pacs-unreachable', `${what}: cannot reach ${this.baseUrl}`, { cause: error });
      if (status === 404) throw new KneeTumorError('study-not-found', `${what}: ${this.baseUrl} answered 404`, { cause: error });
      const kind = answerKind(status);
      if (kind === 'unauthorized') {
        throw new KneeTumorError('pacs-unauthorized', `${what}: ${this.baseUrl} refused our credentials (HTTP ${status}); check pacs.auth`, { cause: error });
      }
      if (kind === 'transient') {
        const retryAfter = failureRetryAfter(error);
        throw new KneeTumorError('pacs-error', `${what}: ${this.baseUrl} answered HTTP ${status}`, {
          cause: error,
          ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
        });
      }
      throw new KneeTumorError('pacs-rejected', `${what}: ${this.baseUrl} answered HTTP ${status}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  private async searchJson(what: string, url: string, params: URLSearchParams): Promise<DicomJson[]> {
    return this.call(what, async (authorization) => {
      const response = await this.http.get<unknown>(url, { params, headers: { Accept: 'application/dicom+json', ...authorization } });
      // An empty search may answer 204 with no body.
      if (response.status === 204 || response.data === '') return [];
      if (!Array.isArray(response.data)) throw new KneeTumorError('pacs-error', `${what}: the answer is not a DICOM JSON array`);
      return response.data as DicomJson[];
    });
  }

  /** QIDO-RS for one study, any: that the PACS answers and takes our credentials (readiness). */
  async probe(): Promise<void> {
    await this.searchJson('QIDO-RS readiness probe', '/studies', new URLSearchParams({ limit: '1' }));
  }

  /** QIDO-RS: the studies matching the query (e.g. ModalitiesInStudy, a StudyDate range, limit and offset). */
  searchStudies(params: URLSearchParams): Promise<DicomJson[]> {
    return this.searchJson('QIDO-RS study search', '/studies', params);
  }

  /** QIDO-RS: the series of a study. */
  searchSeries(studyInstanceUid: string): Promise<DicomJson[]> {
    return this.searchJson('QIDO-RS series search', `/studies/${encodeURIComponent(studyInstanceUid)}/series`, new URLSearchParams());
  }

  /** QIDO-RS: the instances of a series with the extra attributes named (tags as 8 hex digits). */
  searchInstances(studyInstanceUid: string, seriesInstanceUid: string, includeFields: string[]): Promise<DicomJson[]> {
    const params = new URLSearchParams(includeFields.map((f): [string, string] => ['includefield', f]));
    const url = `/studies/${encodeURIComponent(studyInstanceUid)}/series/${encodeURIComponent(seriesInstanceUid)}/instances`;
    return this.searchJson('QIDO-RS instance search', url, params);
  }

  /** WADO-RS: every attribute of each instance of a series, sequences included (bulk data as URIs). */
  seriesMetadata(studyInstanceUid: string, seriesInstanceUid: string): Promise<DicomJson[]> {
    const url = `/studies/${encodeURIComponent(studyInstanceUid)}/series/${encodeURIComponent(seriesInstanceUid)}/metadata`;
    return this.searchJson('WADO-RS series metadata', url, new URLSearchParams());
  }

  /**
   * WADO-RS: one instance as Part 10 bytes, in its stored transfer syntax ('*') or transcoded by
   * the server to the syntax named.
   */
  async retrieveInstance(instance: InstanceRef, transferSyntaxUid: '*' | string): Promise<Uint8Array> {
    const url = ['studies', instance.studyInstanceUid, 'series', instance.seriesInstanceUid, 'instances', instance.sopInstanceUid]
      .map(encodeURIComponent)
      .join('/');
    return this.call('WADO-RS instance retrieval', async (authorization) => {
      const response = await this.http.get<ArrayBuffer>(`/${url}`, {
        responseType: 'arraybuffer',
        headers: { Accept: `multipart/related; type="application/dicom"; transfer-syntax=${transferSyntaxUid}`, ...authorization },
      });
      const parts = parseMultipart(new Uint8Array(response.data), String(response.headers['content-type'] ?? ''));
      const [first] = parts;
      if (!first) throw new KneeTumorError('pacs-error', 'WADO-RS instance retrieval: the answer holds no DICOM file');
      return first.body;
    });
  }

  /** QIDO-RS: the series holding one SOP instance of a study, or undefined when the PACS has none. */
  async seriesOfInstance(studyInstanceUid: string, sopInstanceUid: string): Promise<string | undefined> {
    const found = await this.searchJson(
      'QIDO-RS instance lookup',
      `/studies/${encodeURIComponent(studyInstanceUid)}/instances`,
      new URLSearchParams({ SOPInstanceUID: sopInstanceUid }),
    );
    const value = found[0]?.['0020000E']?.Value?.[0];
    return typeof value === 'string' ? value : undefined;
  }

  /** WADO-RS rendered: one instance as a PNG at its own Columns x Rows (the server's windowing). */
  async retrieveRendered(instance: InstanceRef): Promise<Uint8Array> {
    const url = ['studies', instance.studyInstanceUid, 'series', instance.seriesInstanceUid, 'instances', instance.sopInstanceUid, 'rendered']
      .map((part, i) => (i % 2 === 1 ? encodeURIComponent(part) : part))
      .join('/');
    return this.call('WADO-RS rendered retrieval', async (authorization) => {
      const response = await this.http.get<ArrayBuffer>(`/${url}`, { responseType: 'arraybuffer', headers: { Accept: 'image/png', ...authorization } });
      return new Uint8Array(response.data);
    });
  }

  /** STOW-RS: stores Part 10 files (the demo and the tests fill a PACS with it). */
  async storeInstances(files: Uint8Array[]): Promise<void> {
    // dicomweb-client takes its headers when it is made, so each store gets one with the current token.
    await this.call('STOW-RS', (authorization) =>
      new api.DICOMwebClient({ url: this.baseUrl, headers: authorization, verbose: false, singlepart: false }).storeInstances({
        datasets: files.map((f) => f.slice().buffer),
      }),
    );
  }
}
