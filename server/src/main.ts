/**
 * The CDS service process: reads the configuration once, loads the ensemble, composes the service
 * (job store, worker, CDS Hooks, triggers) around the real analysis, listens, and shuts down
 * cleanly on SIGTERM/SIGINT (the job in progress finishes; an interrupted one is recovered at the
 * next start).
 */
import { loadConfig } from './config';
import { DicomWebClient } from './dicomweb/client';
import { KneeTumorError, isKneeTumorError } from './errors';
import { jsonLog } from './log';
import { loadManifest } from './model/manifest';
import { EnsembleDetector } from './pipeline/detect';
import { runAnalysis } from './pipeline/run-analysis';
import { createService } from './service';
import { DicomWebSource } from './sources/dicomweb-source';

async function start(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.pacs) throw new KneeTumorError('config-invalid', 'the service needs pacs.dicomWebUrl (KNEE_TUMOR_DICOMWEB_URL)');
  if (!config.service) throw new KneeTumorError('config-invalid', 'the service needs the service section (KNEE_TUMOR_BASE_URL, KNEE_TUMOR_PORT)');
  const model = await loadManifest(config.model.manifestPath);
  const detector = await EnsembleDetector.load(model, {
    executionProvider: config.model.executionProvider,
    cpuThreads: config.model.cpuThreads,
    merge: config.model.merge,
    warn: (message) => jsonLog('execution-provider-fallback', { message }),
  });
  const source = new DicomWebSource(new DicomWebClient(config.pacs));
  const deps = { source, detector, operatingThreshold: config.model.operatingThreshold };
  const service = createService(config, (study) => runAnalysis(deps, study), detector.identity);
  const server = service.app.listen(config.service.port, () => {
    jsonLog('listening', { port: config.service?.port, model: `${detector.identity.name}@${detector.identity.version}`, executionProvider: detector.executionProvider });
  });
  service.start();
  const shutdown = (signal: string) => {
    jsonLog('stopping', { signal });
    server.close();
    service
      .stop()
      .then(() => detector.release())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

start().catch((error: unknown) => {
  jsonLog('start-failed', isKneeTumorError(error) ? { code: error.code, reason: error.reason } : { reason: String(error) });
  process.exit(1);
});
