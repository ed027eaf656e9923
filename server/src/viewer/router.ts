/**
 * What the SMART viewer app needs from us: its static files under /app, each radiograph rendered
 * by the PACS and passed through with our PACS credentials (the browser never holds them), the
 * state of a study's analysis (to say why there is no result), and the clinician's agree/disagree,
 * stored as CDS Hooks feedback on the report's card. Every /app-api call carries the app's SMART
 * access token, and only studies and reports of the launch patient are served: whatever the token
 * check, the study's ImagingStudy and the report must have that patient as subject. The app's own
 * settings (client_id, scopes, the EHRs it may be launched from, the token broker in `fhir` mode)
 * are served as /app/config.json; in `fhir` mode its token requests go through POST /app-api/token.
 * The audit trail records each image served (to whom, of which study), each refused token or
 * patient, and each feedback.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { DiagnosticReport, ImagingStudy, Reference } from 'fhir/r4';
import { z } from 'zod';
import { OVERRIDE_REASONS, resultCardUuid } from '../domain/card-feedback';
import type { FeedbackStore } from '../jobs/feedback-store';
import type { DicomWebClient } from '../dicomweb/client';
import { isKneeTumorError, KneeTumorError } from '../errors';
import { SYSTEMS, studyIdentifierValue } from '../../../fhir-profiles/codes';
import type { FhirClient } from '../fhir/client';
import { subjectVerdict, type SubjectMismatch } from '../../../fhir-profiles/patient-subject';
import { bearerToken, formBody, jsonBody, respond } from '../http';
import type { JobStore } from '../jobs/store';
import type { Log } from '../log';
import { TOKEN_BROKER_PATH, type TokenBroker } from './token-broker';
import type { AccessRequest, SmartAuthenticator, SmartCaller } from './token-grant';

/** The service id under which the viewer's feedback is stored beside the hooks' own. */
export const VIEWER_FEEDBACK_SERVICE = 'knee-tumor-viewer';

/** What the app learns at run time: what the EHR registered it as, and which EHRs may launch it. */
export interface AppSettings {
  clientId: string;
  scope: string;
  allowedIssuers: string[];
}

export interface ViewerRouterDeps {
  authenticate: SmartAuthenticator;
  /** `fhir` mode: forwards the app's token requests to the EHR and learns each token's patient. */
  tokenBroker?: TokenBroker;
  appSettings: AppSettings;
  pacs: Pick<DicomWebClient, 'seriesOfInstance' | 'retrieveRendered'>;
  fhir: FhirClient;
  jobs: JobStore;
  feedback: FeedbackStore;
  /** The built app (index.html, launch.html, the bundle). */
  clientDir: string;
  log: Log;
  /** The audit trail (ids only). */
  audit: Log;
}

/** The codes of a token the viewer refuses (an unreachable token check is our outage, not a refusal). */
const TOKEN_REFUSALS = new Set(['session-expired', 'token-unverifiable', 'forbidden', 'unauthorized']);

const UID = /^[0-9]+(\.[0-9]+)*$/;

const ViewerFeedbackSchema = z.object({
  diagnosticReport: z.string().regex(/^DiagnosticReport\/[A-Za-z0-9\-.]{1,64}$/),
  outcome: z.enum(['accepted', 'overridden']),
  overrideReason: z.enum(OVERRIDE_REASONS.map((r) => r.code) as [string, ...string[]]).optional(),
});

function accessOf(req: Request, studyInstanceUid?: string): AccessRequest {
  return { token: bearerToken(req), studyInstanceUid };
}

/** The app's token request, forwarded as received (form body, client authentication) and answered with the EHR's answer. */
function tokenBrokerRoute(broker: TokenBroker): RequestHandler[] {
  const forward: RequestHandler = (req, res, next) => {
    broker.exchange({ form: typeof req.body === 'string' ? req.body : '', authorization: req.get('authorization') ?? undefined }).then((answer) => {
      res.status(answer.status).type(answer.contentType).set('Cache-Control', 'no-store').send(answer.body);
    }, next);
  };
  return [...formBody('16kb'), forward];
}

/** Why none of `resources` is the launch patient's (a code safe to log), or undefined when one is. */
function mismatchOf(resources: { subject?: Reference }[], caller: SmartCaller): SubjectMismatch | 'not-in-fhir' | undefined {
  const patient = { id: caller.patient.slice('Patient/'.length) };
  const verdicts = resources.map((r) => subjectVerdict(r.subject, patient));
  if (verdicts.includes('same-patient')) return undefined;
  return (verdicts[0] as SubjectMismatch | undefined) ?? 'not-in-fhir';
}

function uidParam(req: Request, name: string): string {
  const value = req.params[name];
  if (typeof value !== 'string' || !UID.test(value)) throw new KneeTumorError('bad-request', `${name} is not a DICOM UID`);
  return value;
}

export function createViewerRouter(deps: ViewerRouterDeps): Router {
  const router = express.Router();
  router.get('/app/config.json', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-cache').json({ ...deps.appSettings, ...(deps.tokenBroker ? { tokenBroker: TOKEN_BROKER_PATH } : {}) });
  });
  if (deps.tokenBroker) router.post(TOKEN_BROKER_PATH, ...tokenBrokerRoute(deps.tokenBroker));
  router.use('/app', express.static(deps.clientDir, { index: 'index.html' }));

  const authenticate = async (req: Request, studyInstanceUid?: string): Promise<SmartCaller> => {
    try {
      return await deps.authenticate(accessOf(req, studyInstanceUid));
    } catch (error) {
      if (isKneeTumorError(error) && TOKEN_REFUSALS.has(error.code)) deps.audit('token-refused', { surface: 'viewer', path: req.path, code: error.code, reason: error.reason });
      throw error;
    }
  };

  const callers = new WeakMap<Request, SmartCaller>();
  /** Authenticates from the headers alone, so that a body is read only once its sender is known. */
  const authenticatedFirst: RequestHandler = (req, _res, next) => {
    authenticate(req).then((caller) => {
      callers.set(req, caller);
      next();
    }, next);
  };

  /** Refuses what is not the launch patient's, logged by code (the UID is no patient data). */
  const assertOfPatient = (resources: { subject?: Reference }[], caller: SmartCaller, what: 'study' | 'report', study?: string): void => {
    const reason = mismatchOf(resources, caller);
    if (!reason) return;
    deps.log('viewer-access-refused', { code: 'patient-mismatch', reason, what, study });
    deps.audit('access-refused', { surface: 'viewer', code: 'patient-mismatch', reason, what, study, issuer: caller.issuer, user: caller.user });
    throw new KneeTumorError('patient-mismatch', `the ${what} is not one of the launch patient's`);
  };

  /** Refuses a study the FHIR server does not list under the launch patient. */
  const assertStudyOfPatient = async (caller: SmartCaller, studyInstanceUid: string): Promise<void> => {
    const identifier = `${encodeURIComponent(SYSTEMS.dicomUid)}|${encodeURIComponent(studyIdentifierValue(studyInstanceUid))}`;
    const studies = await deps.fhir.search<ImagingStudy>('ImagingStudy', `identifier=${identifier}`);
    assertOfPatient(studies, caller, 'study', studyInstanceUid);
  };

  router.get('/app-api/studies/:study/instances/:sop/rendered', (req: Request, res: Response, next: NextFunction) => {
    (async () => {
      const study = uidParam(req, 'study');
      const sop = uidParam(req, 'sop');
      const caller = await authenticate(req, study);
      await assertStudyOfPatient(caller, study);
      const series = await deps.pacs.seriesOfInstance(study, sop);
      if (!series) throw new KneeTumorError('not-found', 'the PACS has no such image in the study');
      const png = await deps.pacs.retrieveRendered({ studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop });
      deps.audit('image-viewed', { issuer: caller.issuer, user: caller.user, study, instance: sop });
      res.status(200).type('image/png').set('Cache-Control', 'private, no-store').send(Buffer.from(png));
    })().catch(next);
  });

  router.get(
    '/app-api/studies/:study/analysis',
    respond(async (req) => {
      const study = uidParam(req, 'study');
      const caller = await authenticate(req, study);
      await assertStudyOfPatient(caller, study);
      const job = await deps.jobs.forStudy(study);
      if (!job) return { status: 200, body: { state: 'not-started' } };
      return { status: 200, body: { state: job.state, report: job.report, reason: job.state === 'failed' || job.state === 'queued' ? job.errorReason : undefined } };
    }),
  );

  router.post(
    '/app-api/feedback',
    authenticatedFirst,
    ...jsonBody('16kb'),
    respond(async (req) => {
      const caller = callers.get(req) as SmartCaller;
      const parsed = ViewerFeedbackSchema.safeParse(req.body);
      if (!parsed.success) throw new KneeTumorError('bad-request', 'invalid feedback: give diagnosticReport, outcome and, when overridden, a coded reason');
      const { diagnosticReport, outcome, overrideReason } = parsed.data;
      const id = diagnosticReport.slice('DiagnosticReport/'.length);
      const reports = await deps.fhir.search<DiagnosticReport>('DiagnosticReport', `_id=${encodeURIComponent(id)}`);
      assertOfPatient(reports, caller, 'report');
      await deps.feedback.record(VIEWER_FEEDBACK_SERVICE, caller.issuer, [
        {
          card: resultCardUuid(diagnosticReport),
          outcome,
          ...(outcome === 'overridden' && overrideReason ? { overrideReason } : {}),
          outcomeTimestamp: new Date().toISOString(),
        },
      ]);
      deps.log('viewer-feedback-stored', { outcome });
      deps.audit('feedback', { surface: 'viewer', issuer: caller.issuer, user: caller.user, report: diagnosticReport, outcome, overrideReason });
      return { status: 200, body: {} };
    }),
  );
  return router;
}
