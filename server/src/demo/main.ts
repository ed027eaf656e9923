/**
 * The demo, on one port: a demo EHR (chart pages, its FHIR server and SMART authorization server)
 * and our CDS service with the viewer app, over a local Orthanc holding phantom knee studies. It
 * analyses the samples with the shipped ensemble (trained on phantoms: not for clinical use) and
 * prints the URL to open. KNEE_TUMOR_DEMO_PORT picks the port (0: any free one); the KNEE_TUMOR_*
 * variables of the service (model, jobs database) apply.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import express from 'express';
import { loadConfig, parseConfig } from '../config';
import { DicomWebClient } from '../dicomweb/client';
import { isKneeTumorError } from '../errors';
import { createFhirEngine } from '../fhir/memory-engine';
import { jsonLog, silentLog } from '../log';
import { loadPacsAnalysis } from '../pipeline/pacs-analysis';
import { createService } from '../service';
import { createAuthorizationServer } from './authorization-server';
import { createCdsSigner } from './cds-signer';
import { createEhrRouter } from './ehr';
import { freePort, startOrthanc } from './orthanc';
import { demoSamples, loadSamples, referencesByStudy } from './sample-data';

const ORTHANC = '/usr/sbin/Orthanc';
const PACS_USER = { username: 'knee-ai', password: 'demo-pacs-secret' };

async function main(): Promise<void> {
  if (!existsSync(ORTHANC)) throw new Error(`the demo needs Orthanc (${ORTHANC}): apt-get install orthanc orthanc-dicomweb orthanc-gdcm`);
  const requested = Number(process.env.KNEE_TUMOR_DEMO_PORT ?? 8090);
  const port = requested === 0 ? await freePort() : requested;
  const base = `http://127.0.0.1:${port}`;
  const fhirBaseUrl = `${base}/fhir`;
  const settings = loadConfig(process.env);

  const orthanc = await startOrthanc({ credentials: PACS_USER });
  const auth = await createAuthorizationServer(`${base}/oauth`, fhirBaseUrl);
  const signer = await createCdsSigner(`${base}/ehr`);
  const config = parseConfig({
    pacs: { dicomWebUrl: orthanc.dicomWebUrl, auth: { type: 'basic', ...PACS_USER } },
    fhir: { baseUrl: fhirBaseUrl },
    service: { baseUrl: base, port, appLaunchUrl: `${base}/app/launch.html`, modelCardUrl: `${base}/ehr` },
    smart: { issuer: auth.issuer, jwksUrl: `${auth.issuer}/jwks`, fhirBaseUrl },
    cdsClients: [signer.client],
    jobs: { databasePath: process.env.KNEE_TUMOR_JOBS_DB ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'knee-demo-')), 'jobs.sqlite'), initialBackoffMs: 500, maxBackoffMs: 2000 },
    // The demo runs the shipped demonstration model on phantoms; every result it shows says so.
    model: { ...settings.model, allowDemonstrationModel: true },
  });
  if (!config.pacs) throw new Error('the demo configuration names no PACS');
  const { analyse, detector } = await loadPacsAnalysis(config.pacs, config.model, config.analysis, (message) => jsonLog('execution-provider-fallback', { message }));
  const pacs = new DicomWebClient(config.pacs);
  const service = createService(config, analyse, detector.identity, silentLog);

  const fhir = createFhirEngine();
  const app = express();
  app.disable('x-powered-by');
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

  const studies = await loadSamples(samples, fhir, pacs);
  service.start();
  for (const uid of studies) service.jobs.enqueue(uid, 'http');
  service.worker.wake();
  console.log(`Analysing ${studies.length} sample knee studies with ${detector.identity.name} ${detector.identity.version}…`);
  const deadline = Date.now() + 10 * 60_000;
  while (studies.some((uid) => !['done', 'failed'].includes(service.jobs.forStudy(uid)?.state ?? '')) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`Demo EHR ready: open ${base}/ehr`);

  const stop = () => {
    server.closeAllConnections();
    server.close();
    void service
      .stop()
      .then(() => detector.release())
      .then(() => orthanc.stop())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  jsonLog('demo-failed', isKneeTumorError(error) ? { code: error.code, reason: error.reason } : { reason: String(error) });
  process.exit(1);
});
