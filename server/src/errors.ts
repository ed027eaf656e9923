/**
 * The one error family of the service. Every refusal or failure that a user can meet is a
 * KneeTumorError with a stable code, a reason in plain words (never patient data), and whether
 * retrying later can help (a server that is down) or not (a CT where a radiograph belongs).
 */
export type ErrorCode =
  // configuration and model
  | 'config-invalid'
  | 'model-invalid'
  | 'execution-provider-unavailable'
  // the study does not fit the method
  | 'study-not-found'
  | 'view-missing'
  | 'not-radiograph'
  | 'not-knee'
  /** The study's images are not one study of one patient: patient attributes or Study Instance UIDs differ, or SOP Instance UIDs repeat. */
  | 'study-inconsistent'
  // the images cannot be read
  | 'dicom-unreadable'
  | 'unsupported-transfer-syntax'
  | 'pixel-data-invalid'
  /** The header contradicts itself or its pixel data (sizes, bits, decoded dimensions or precision). */
  | 'dicom-inconsistent'
  /** The image exceeds a resource limit (analysis.imageLimits), refused before allocation. */
  | 'image-too-large'
  /** The image decodes but is not a plausible radiograph (blank, or rows left by truncation). */
  | 'image-implausible'
  // other systems
  | 'pacs-unreachable'
  | 'pacs-error'
  | 'pacs-rejected'
  | 'pacs-unauthorized'
  | 'fhir-unreachable'
  | 'fhir-error'
  | 'fhir-rejected'
  | 'fhir-unauthorized'
  | 'fhir-invalid'
  | 'imaging-study-not-in-fhir'
  // requests made to us
  | 'bad-request'
  /** A request body over the route's limit. */
  | 'payload-too-large'
  /** A request body that is not JSON (or FHIR JSON where the route takes it). */
  | 'unsupported-media-type'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'prefetch-unavailable'
  /** A CDS client's JWKS URL cannot be read: its tokens cannot be checked until it can. */
  | 'cds-client-keys-unavailable'
  // the SMART viewer's access token
  | 'session-expired'
  /** A token this deployment's check cannot validate (another alg, key, issuer or form): the set-up, not the session. */
  | 'token-unverifiable'
  | 'patient-mismatch'
  | 'introspection-unauthorized'
  | 'token-check-unavailable'
  // where we write
  | 'output-unwritable'
  /** The job database cannot be written (disk full, I/O error): a trigger is answered 503 and sent again. */
  | 'job-store-unavailable'
  // the analysis process
  /** The analysis ran past its time or memory limit (analysis.timeoutMs, analysis.maxMemoryMb). */
  | 'analysis-limit-exceeded'
  /** The analysis took its process down, on every attempt. */
  | 'analysis-crashed'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  'config-invalid': 500,
  'model-invalid': 500,
  'execution-provider-unavailable': 500,
  'study-not-found': 404,
  'view-missing': 422,
  'not-radiograph': 422,
  'not-knee': 422,
  'study-inconsistent': 422,
  'dicom-unreadable': 422,
  'unsupported-transfer-syntax': 422,
  'pixel-data-invalid': 422,
  'dicom-inconsistent': 422,
  'image-too-large': 422,
  'image-implausible': 422,
  'pacs-unreachable': 503,
  'pacs-error': 502,
  'pacs-rejected': 502,
  'pacs-unauthorized': 502,
  'fhir-unreachable': 503,
  'fhir-error': 502,
  'fhir-rejected': 502,
  'fhir-unauthorized': 502,
  'fhir-invalid': 500,
  'imaging-study-not-in-fhir': 404,
  'bad-request': 400,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'prefetch-unavailable': 412,
  'cds-client-keys-unavailable': 503,
  'session-expired': 401,
  'token-unverifiable': 401,
  'patient-mismatch': 403,
  'introspection-unauthorized': 502,
  'token-check-unavailable': 503,
  'output-unwritable': 500,
  'job-store-unavailable': 503,
  'analysis-limit-exceeded': 422,
  'analysis-crashed': 500,
  internal: 500,
};

/**
 * The EHR often registers the ImagingStudy after the PACS has the images, and a study the PACS
 * does not list yet may still be arriving, so both are worth retrying (the job worker bounds how
 * often); a server that rejects what we send, or our credentials, is not: only a change helps.
 */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set([
  'pacs-unreachable',
  'pacs-error',
  'fhir-unreachable',
  'fhir-error',
  'imaging-study-not-in-fhir',
  'study-not-found',
  'job-store-unavailable',
]);

export class KneeTumorError extends Error {
  override readonly name = 'KneeTumorError';
  readonly code: ErrorCode;
  /** Free of patient data, safe to log and to show to a clinician or integrator. */
  readonly reason: string;
  /** How long the server asked us to wait before trying again (its Retry-After), if it said. */
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, reason: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(`${code}: ${reason}`, options);
    this.code = code;
    this.reason = reason;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  /** True when the same work may succeed later (an unreachable or failing server). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  toJSON(): { code: ErrorCode; reason: string } {
    return { code: this.code, reason: this.reason };
  }
}

/**
 * The message of anything thrown: an Error's, else the value written out (a rejection need not be
 * an Error). By shape, not instanceof: errors of native modules and of other realms (workers, VM
 * contexts) are not instances of this realm's Error.
 */
export function messageOf(thrown: unknown): string {
  const message = typeof thrown === 'object' && thrown !== null ? (thrown as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(thrown);
}

export function isKneeTumorError(error: unknown): error is KneeTumorError {
  return error instanceof KneeTumorError;
}

/** Wraps anything thrown into the family, keeping a KneeTumorError as it is. */
export function asKneeTumorError(error: unknown, code: ErrorCode, reason: string): KneeTumorError {
  return isKneeTumorError(error) ? error : new KneeTumorError(code, reason, { cause: error });
}
