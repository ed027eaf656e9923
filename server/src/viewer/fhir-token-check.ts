/**
 * `fhir` mode, for EHRs that neither sign JWTs we can check nor offer introspection: the token is
 * tried on the EHR's own FHIR server, which knows it. The launch patient is the one the EHR named
 * when it issued the token through our token broker (token-broker.ts), never one the request
 * names; a token that did not pass through the broker is refused. The token must then read
 * Patient/{id} and, for a study, find the study's ImagingStudy with that patient as subject.
 * Conclusions are remembered per token, at most five minutes (less when the token is a JWT whose
 * `exp` says so).
 */
import type { Bundle, ImagingStudy, Patient } from 'fhir/r4';
import { decodeJwt } from 'jose';
import { KneeTumorError } from '../errors';
import { SYSTEMS, studyIdentifierValue } from '../../../fhir-profiles/codes';
import { subjectVerdict } from '../../../fhir-profiles/patient-subject';
import { createTokenCheckCache } from './token-cache';
import { TOKEN_BROKER_PATH } from './token-broker';
import { sessionEnded, type SmartAuthenticator, type SmartCaller } from './token-grant';

/** The expiry a JWT token states; it only shortens how long a conclusion is kept, so it needs no signature check. */
function statedExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    // An opaque token states nothing: the five-minute bound applies.
    return undefined;
  }
}

/** `launchPatientOf`: the patient the EHR issued a token for (the broker's binding). */
export function createFhirTokenCheck(fhirBaseUrl: string, timeoutMs: number, launchPatientOf: (token: string) => string | undefined): SmartAuthenticator {
  const base = fhirBaseUrl.replace(/\/+$/, '');
  const readable = createTokenCheckCache<true>();

  /** A read with the app's token; what the FHIR server's refusal means for the token. */
  const read = async <T>(token: string, relativeUrl: string, what: string): Promise<T> => {
    let response: Response;
    try {
      response = await fetch(`${base}/${relativeUrl}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw new KneeTumorError('token-check-unavailable', `the EHR's FHIR server ${base} cannot be reached to check the access token`, { cause });
    }
    if (response.status === 401) throw sessionEnded('the EHR\'s FHIR server no longer accepts the access token');
    if (response.status === 403 || response.status === 404 || response.status === 410) throw new KneeTumorError('forbidden', `the access token cannot read ${what} on the EHR's FHIR server (HTTP ${response.status})`);
    if (!response.ok) throw new KneeTumorError('token-check-unavailable', `the EHR's FHIR server answered HTTP ${response.status} when the access token was checked`);
    return (await response.json()) as T;
  };

  const assertPatientReadable = async (token: string, patientId: string, expiresAt: number | undefined) => {
    if (readable.get(token, `Patient/${patientId}`)) return;
    const patient = await read<Patient>(token, `Patient/${encodeURIComponent(patientId)}`, 'the launch patient');
    if (patient.resourceType !== 'Patient' || patient.id !== patientId) throw new KneeTumorError('forbidden', 'the EHR\'s FHIR server did not return the launch patient for the access token');
    readable.set(token, true, expiresAt, `Patient/${patientId}`);
  };

  const assertStudyReadable = async (token: string, caller: SmartCaller, studyInstanceUid: string, expiresAt: number | undefined) => {
    const scope = `${caller.patient} ${studyInstanceUid}`;
    if (readable.get(token, scope)) return;
    const identifier = `${encodeURIComponent(SYSTEMS.dicomUid)}|${encodeURIComponent(studyIdentifierValue(studyInstanceUid))}`;
    const bundle = await read<Bundle>(token, `ImagingStudy?identifier=${identifier}`, 'the study\'s ImagingStudy');
    const studies = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is ImagingStudy => r?.resourceType === 'ImagingStudy');
    if (studies.length === 0) throw new KneeTumorError('forbidden', 'the access token finds no ImagingStudy of this study on the EHR\'s FHIR server');
    const patient = { id: caller.patient.slice('Patient/'.length) };
    if (!studies.some((s) => subjectVerdict(s.subject, patient, base) === 'same-patient')) throw new KneeTumorError('patient-mismatch', 'the study is not one of the launch patient\'s');
    readable.set(token, true, expiresAt, scope);
  };

  return async ({ token, studyInstanceUid }) => {
    if (!token) throw sessionEnded('a SMART access token is required');
    const launchPatient = launchPatientOf(token);
    if (!launchPatient) {
      throw sessionEnded(
        `smart.tokenValidation.mode fhir knows the launch patient only of tokens the EHR issued through ${TOKEN_BROKER_PATH}: this one did not pass there, has expired, or the service restarted since the launch; open the viewer again from the chart`,
      );
    }
    const expiresAt = statedExpiry(token);
    if (expiresAt !== undefined && expiresAt * 1000 <= Date.now()) throw sessionEnded('the session has expired');
    await assertPatientReadable(token, launchPatient, expiresAt);
    const caller: SmartCaller = { issuer: base, patient: `Patient/${launchPatient}` };
    if (studyInstanceUid) await assertStudyReadable(token, caller, studyInstanceUid, expiresAt);
    return caller;
  };
}
