/**
 * The demo, on one port: a demo EHR (chart pages, its FHIR server and SMART authorization server)
 * and our CDS service with the viewer app, over a local Orthanc holding phantom knee studies. It
 * analyses the samples with the shipped ensemble (trained on phantoms: not for clinical use) and
 * prints every URL a person or a third-party client needs. KNEE_TUMOR_DEMO_PORT picks the port (0:
 * any free one); the KNEE_TUMOR_* variables of the service (model, jobs database) apply, and from
 * the KNEE_TUMOR_CONFIG file its `model`, `analysis`, `orders`, `smart` (laid over the demo's own)
 * and `cdsClients` (besides the demo's own), so that a third-party CDS client or SMART launcher can
 * be tried against it.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import cors from 'cors';
import express from 'express';
import { configSections, parseConfig } from '../config';
import { DicomWebClient } from '../dicomweb/client';
import { isKneeTumorError } from '../errors';
import { createFhirEngine } from '../fhir/memory-engine';
import { jsonLog, silentLog } from '../log';
import { startAnalysisPool } from '../pipeline/analysis-pool';
import { createService } from '../service';
import { createAuthorizationServer } from './authorization-server';
import { createCdsSigner } from './cds-signer';
import { createEhrRouter } from './ehr';
import { freePort, startOrthanc } from './orthanc';
import { demoSamples, loadSamples, referencesByStudy } from './sample-data';

const ORTHANC = '/usr/sbin/Orthanc';
const PACS_USER = { username: 'knee-ai', password: 'demo-pacs-secret' };

/** Every URL of the demo; the Orthanc credentials are the demo's own, not a secret. */
function startupMessage(urls: { base: string; fhirBaseUrl: string; appLaunchUrl: string; authIssuer: string; orthancUrl: string; dicomWebUrl: string }): string {
  return [
    `Demo EHR ready: open ${urls.base}/ehr`,
    `  Chart (patient list):       ${urls.base}/ehr`,
    `  FHIR R4 server:             ${urls.fhirBaseUrl} (CapabilityStatement: ${urls.fhirBaseUrl}/metadata)`,
    `  SMART configuration:        ${urls.fhirBaseUrl}/.well-known/smart-configuration`,
    `  Authorization server:       ${urls.authIssuer} (authorize: ${urls.authIssuer}/authorize, token: ${urls.authIssuer}/token, keys: ${urls.authIssuer}/jwks)`,
    `  CDS Hooks discovery:        ${urls.base}/cds-services`,
    `  SMART app launch URL:       ${urls.appLaunchUrl}`,
    `  Orthanc (PACS):             ${urls.orthancUrl}, DICOMweb ${urls.dicomWebUrl}, user ${PACS_USER.username}, password ${PACS_USER.password}`,
  ].join('\n');
}

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
  const port = requested === 0 ? await freePort() : requested;
  const base = `http://127.0.0.1:${port}`;
  const fhirBaseUrl = `${base}/fhir`;
  const settings = configSections(process.env);
  const section = (name: string) => (settings[name] ?? {}) as Record<string, unknown>;

  const orthanc = await startOrthanc({ credentials: PACS_USER });
  running.push({ name: 'orthanc', stop: () => orthanc.stop() });
  const auth = await createAuthorizationServer(`${base}/oauth`, fhirBaseUrl);
  const signer = await createCdsSigner(`${base}/ehr`);
  const config = parseConfig({
    pacs: { dicomWebUrl: orthanc.dicomWebUrl, auth: { type: 'basic', ...PACS_USER } },
    fhir: { baseUrl: fhirBaseUrl },
    service: { baseUrl: base, port, appLaunchUrl: `${base}/app/launch.html`, modelCardUrl: `${base}/ehr` },
    smart: { issuer: auth.issuer, jwksUrl: `${auth.issuer}/jwks`, fhirBaseUrl, ...section('smart') },
    // The chart's own client stays; its hooks name the demo's FHIR server.
    cdsClients: [{ ...signer.client, fhirServers: [fhirBaseUrl] }, ...((settings.cdsClients ?? []) as unknown[])],
    jobs: { databasePath: process.env.KNEE_TUMOR_JOBS_DB ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'knee-demo-')), 'jobs.sqlite'), initialBackoffMs: 500, maxBackoffMs: 2000 },
    analysis: section('analysis'),
    orders: section('orders'),
    // The demo runs the shipped demonstration model on phantoms; every result it shows says so.
    model: { ...section('model'), allowDemonstrationModel: true },
  });
  if (!config.pacs) throw new Error('the demo configuration names no PACS');
  const analysis = await startAnalysisPool(config.pacs, config.model, config.analysis, (message) => jsonLog('execution-provider-fallback', { message }));
  running.push({ name: 'model', stop: () => analysis.release() });
  const pacs = new DicomWebClient(config.pacs);
  const service = createService(config, analysis.analyse, analysis.identity, silentLog);
  running.push({ name: 'service', stop: () => service.stop() });

  const fhir = createFhirEngine({ fhirBaseUrl, smart: { authorize: `${auth.issuer}/authorize`, token: `${auth.issuer}/token` } });
  const app = express();
  app.disable('x-powered-by');
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
  app.use(createEhrRouter({ fhir, fhirBaseUrl, serviceBaseUrl: base, auth, signer, references: referencesByStudy(samples) }));
  app.get('/', (_req, res) => res.redirect('/ehr'));
  app.use(service.app);
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  running.push({
    name: 'http',
    stop: () => {
      server.closeAllConnections();
      server.close();
    },
  });

  const studies = await loadSamples(samples, fhir, pacs);
  service.start();
  for (const uid of studies) service.jobs.enqueue(uid, 'http');
  service.worker.wake();
  console.log(`Analysing ${studies.length} sample knee studies with ${analysis.identity.name} ${analysis.identity.version}…`);
  const deadline = Date.now() + 10 * 60_000;
  while (studies.some((uid) => !['done', 'failed'].includes(service.jobs.forStudy(uid)?.state ?? '')) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(startupMessage({ base, fhirBaseUrl, appLaunchUrl: config.service?.appLaunchUrl ?? '', authIssuer: auth.issuer, orthancUrl: orthanc.url, dicomWebUrl: orthanc.dicomWebUrl }));
}

main().catch(failed);
