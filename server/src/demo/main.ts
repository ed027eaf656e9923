/**
 * The demo, on one port: a demo EHR (chart pages, its FHIR server and SMART authorization server)
 * and our CDS service with the viewer app, over a local Orthanc holding phantom knee studies. It
 * analyses the samples with the shipped ensemble (trained on phantoms: not for clinical use) and
 * prints every URL a person or a third-party client needs. KNEE_TUMOR_DEMO_PORT picks the port (0:
 * any free one); the KNEE_TUMOR_* variables of the service (model, jobs database) apply, and from
 * the KNEE_TUMOR_CONFIG file its `model`, `analysis`, `orders`, `smart` (laid over the demo's own)
 * and `cdsClients` (besides the demo's own), so that a third-party CDS client or SMART launcher can
 * be tried against it.
 *
 * Its Orthanc announces each stable study to the service's Orthanc trigger (a study stored into it
 * is analysed seconds later) and is started again when it dies. The service's log (JSON lines, no
 * patient data) and audit trail go to files in the demo's folder, named in the start-up message,
 * so that the console stays for people. /ehr and /fhir answer with security headers (CSP, nosniff,
 * no framing by others); /fhir stays readable by browser apps on other origins (CORS).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { configSections, parseConfig, REPOSITORY_ROOT } from '../config';
import { DicomWebClient } from '../dicomweb/client';
import { isKneeTumorError } from '../errors';
import { createFhirEngine } from '../fhir/memory-engine';
import { jsonFileLog, jsonLog } from '../log';
import { startAnalysisPool } from '../pipeline/analysis-pool';
import { createService } from '../service';
import { createAuthorizationServer } from './authorization-server';
import { createCdsSigner } from './cds-signer';
import { createEhrRouter } from './ehr';
import { startOrthanc } from './orthanc';
import { DEMO_CLINICIAN, demoSamples, loadSamples, referencesByStudy, type DemoPatient } from './sample-data';

const ORTHANC = '/usr/sbin/Orthanc';
const PACS_USER = { username: 'knee-ai', password: 'demo-pacs-secret' };
const ON_STABLE_STUDY = path.join(REPOSITORY_ROOT, 'server/orthanc/on-stable-study.lua');
/** Seconds without new instances before the demo's Orthanc announces a study (production: 60). */
const STABLE_AGE_SECONDS = 3;

interface StartupFacts {
  base: string;
  fhirBaseUrl: string;
  appLaunchUrl: string;
  clientId: string;
  authIssuer: string;
  orthancUrl: string;
  dicomWebUrl: string;
  serviceLog: string;
  auditLog: string;
  patients: DemoPatient['patient'][];
  fhirUser: string;
}

/**
 * Every URL of the demo, and what a third-party launcher (e.g. the SMART App Launcher) needs: the
 * app's launch URL, iss, client id and the patients' ids, which are the same on every start. The
 * Orthanc credentials are the demo's own, not a secret. The Orthanc line comes last.
 */
function startupMessage(facts: StartupFacts): string {
  const patients = facts.patients.map((p) => `${p.id} (${[p.name?.[0]?.given?.join(' '), p.name?.[0]?.family].filter(Boolean).join(' ')})`).join(', ');
  return [
    `Demo EHR ready: open ${facts.base}/ehr`,
    `  Chart (patient list):       ${facts.base}/ehr`,
    `  FHIR R4 server:             ${facts.fhirBaseUrl} (CapabilityStatement: ${facts.fhirBaseUrl}/metadata)`,
    `  SMART configuration:        ${facts.fhirBaseUrl}/.well-known/smart-configuration`,
    `  Authorization server:       ${facts.authIssuer} (authorize: ${facts.authIssuer}/authorize, token: ${facts.authIssuer}/token, keys: ${facts.authIssuer}/jwks)`,
    `  CDS Hooks discovery:        ${facts.base}/cds-services`,
    `  SMART app launch URL:       ${facts.appLaunchUrl}`,
    `  Launch from a third party:  launch URL ${facts.appLaunchUrl}, iss ${facts.fhirBaseUrl}, client id ${facts.clientId}`,
    `  Patient ids:                ${patients}`,
    `  Practitioner (fhirUser):    ${facts.fhirUser}`,
    `  Service log (JSON lines):   ${facts.serviceLog}`,
    `  Audit trail (JSON lines):   ${facts.auditLog}`,
    `  Orthanc (PACS):             ${facts.orthancUrl}, DICOMweb ${facts.dicomWebUrl}, user ${PACS_USER.username}, password ${PACS_USER.password}`,
  ].join('\n');
}

/** The chart's pages: its own stylesheet and links only (helmet's default policy), framed by no other site. */
const chartHeaders = helmet({ contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } } });

/** FHIR answers are data, never a page: no content, no framing, no sniffing; other origins may read them (CORS decides). */
const fhirHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
});

/**
 * What the demo started, stopped newest first on every way out: a failed start, SIGINT/SIGTERM, an
 * uncaught exception. Orthanc is a child process that would otherwise keep running with no parent.
 */
const running: { name: string; stop: () => Promise<void> | void }[] = [];
let exiting: Promise<never> | undefined;

function shutdown(exitCode: number): Promise<never> {
  exiting ??= (async () => {
    for (const { name, stop } of running.reverse()) {
      try {
        await stop();
      } catch (error) {
        jsonLog('demo-stop-failed', { part: name, reason: String(error) });
      }
    }
    process.exit(exitCode);
  })();
  return exiting;
}

function failed(error: unknown): void {
  jsonLog('demo-failed', isKneeTumorError(error) ? { code: error.code, reason: error.reason } : { reason: String(error) });
  void shutdown(1);
}

async function main(): Promise<void> {
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGINT', () => void shutdown(0));
  process.on('uncaughtException', failed);
  process.on('unhandledRejection', failed);
  if (!existsSync(ORTHANC)) throw new Error(`the demo needs Orthanc (${ORTHANC}): apt-get install orthanc orthanc-dicomweb orthanc-gdcm`);
  const requested = Number(process.env.KNEE_TUMOR_DEMO_PORT ?? 8090);
  // Listening before anything else is built: every URL of the demo holds the port, and with 0 it is
  // the kernel's pick at listen time (one picked beforehand could be taken meanwhile).
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject).listen(requested, '127.0.0.1'));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const fhirBaseUrl = `${base}/fhir`;
  const settings = configSections(process.env);
  const section = (name: string) => (settings[name] ?? {}) as Record<string, unknown>;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knee-demo-'));
  const serviceLog = path.join(dir, 'service.log');
  const auditLog = path.join(dir, 'audit.log');
  const log = jsonFileLog(serviceLog);
  console.log(`The service logs to ${serviceLog} (JSON lines).`);

  // Orthanc's stable-study callback posts each study to the service's Orthanc trigger with this token.
  const orthancToken = randomBytes(32).toString('base64url');
  const triggerSettings = path.join(dir, 'knee-tumor-settings.lua');
  writeFileSync(triggerSettings, `KNEE_TUMOR_TRIGGER = { url = '${base}/triggers/orthanc', token = '${orthancToken}' }\n`, { mode: 0o600 });
  const orthanc = await startOrthanc({
    credentials: PACS_USER,
    luaScripts: [triggerSettings, ON_STABLE_STUDY],
    stableAgeSeconds: STABLE_AGE_SECONDS,
    supervise: {
      restarted(cause) {
        log('orthanc-restarted', { cause });
        console.log(`The demo's Orthanc stopped (${cause}) and was started again, with its studies, at ${orthanc.url}.`);
      },
      gaveUp(reason) {
        log('orthanc-restart-failed', { reason });
        console.error(`The demo's Orthanc stopped and could not be started again (${reason}): the demo stops, since it has no PACS.`);
        void shutdown(1);
      },
    },
  });
  running.push({ name: 'orthanc', stop: () => orthanc.stop() });
  const fhirUser = `${fhirBaseUrl}/Practitioner/${DEMO_CLINICIAN.id}`;
  const auth = await createAuthorizationServer(`${base}/oauth`, fhirBaseUrl, { fhirUser });
  const signer = await createCdsSigner(`${base}/ehr`);
  const config = parseConfig({
    pacs: { dicomWebUrl: orthanc.dicomWebUrl, auth: { type: 'basic', ...PACS_USER } },
    fhir: { baseUrl: fhirBaseUrl },
    service: { baseUrl: base, port, appLaunchUrl: `${base}/app/launch.html`, modelCardUrl: `${base}/ehr` },
    smart: { issuer: auth.issuer, jwksUrl: `${auth.issuer}/jwks`, fhirBaseUrl, ...section('smart') },
    // The chart's own client stays; its hooks name the demo's FHIR server.
    cdsClients: [{ ...signer.client, fhirServers: [fhirBaseUrl] }, ...((settings.cdsClients ?? []) as unknown[])],
    jobs: { databasePath: process.env.KNEE_TUMOR_JOBS_DB ?? path.join(dir, 'jobs.sqlite'), initialBackoffMs: 500, maxBackoffMs: 2000 },
    triggers: { orthancToken },
    operations: { auditLogPath: auditLog },
    analysis: section('analysis'),
    orders: section('orders'),
    // The demo runs the shipped demonstration model on phantoms; every result it shows says so.
    model: { ...section('model'), allowDemonstrationModel: true },
  });
  if (!config.pacs) throw new Error('the demo configuration names no PACS');
  const analysis = await startAnalysisPool(config.pacs, config.model, config.analysis, (message) => log('execution-provider-fallback', { message }));
  running.push({ name: 'model', stop: () => analysis.release() });
  const pacs = new DicomWebClient(config.pacs);
  const service = createService(config, analysis.analyse, analysis.identity, log);
  running.push({ name: 'service', stop: () => service.stop() });

  const fhir = createFhirEngine({ fhirBaseUrl, smart: { authorize: `${auth.issuer}/authorize`, token: `${auth.issuer}/token` } });
  const app = express();
  app.disable('x-powered-by');
  app.use('/ehr', chartHeaders);
  app.use('/fhir', fhirHeaders);
  // A browser app on another origin (a third-party SMART app or CDS client) reads the FHIR server with a bearer token.
  app.use('/fhir', cors({ origin: '*', allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'Prefer', 'If-None-Exist', 'If-Match'], exposedHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified'] }));
  app.get('/fhir/.well-known/smart-configuration', (_req, res) => {
    res.json({
      issuer: auth.issuer,
      authorization_endpoint: `${auth.issuer}/authorize`,
      token_endpoint: `${auth.issuer}/token`,
      jwks_uri: `${auth.issuer}/jwks`,
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['launch', 'openid', 'fhirUser', 'patient/*.rs'],
      capabilities: ['launch-ehr', 'client-public', 'context-ehr-patient', 'permission-patient', 'permission-v2'],
    });
  });
  app.use('/fhir', ...fhir.handler);
  app.use('/oauth', auth.handler);
  const samples = demoSamples();
  app.use(createEhrRouter({ fhir, fhirBaseUrl, serviceBaseUrl: base, auth, signer, references: referencesByStudy(samples), user: `Practitioner/${DEMO_CLINICIAN.id}` }));
  app.get('/', (_req, res) => res.redirect('/ehr'));
  app.use(service.app);
  server.on('request', app);
  running.push({
    name: 'http',
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  });

  const studies = await loadSamples(samples, fhir, pacs);
  service.start();
  for (const uid of studies) await service.jobs.enqueue(uid, 'http');
  service.worker.wake();
  console.log(`Analysing ${studies.length} sample knee studies with ${analysis.identity.name} ${analysis.identity.version}…`);
  const deadline = Date.now() + 10 * 60_000;
  const finished = async (uid: string) => ['done', 'failed'].includes((await service.jobs.forStudy(uid))?.state ?? '');
  while (!(await Promise.all(studies.map(finished))).every(Boolean) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(
    startupMessage({
      base,
      fhirBaseUrl,
      appLaunchUrl: config.service?.appLaunchUrl ?? '',
      clientId: config.smart?.app.clientId ?? '',
      authIssuer: auth.issuer,
      orthancUrl: orthanc.url,
      dicomWebUrl: orthanc.dicomWebUrl,
      serviceLog,
      auditLog,
      patients: samples.map((s) => s.patient),
      fhirUser,
    }),
  );
}

main().catch(failed);
