/**
 * The CDS service process: reads the configuration once, loads the ensemble, composes the service
 * (job store, worker, CDS Hooks, triggers) around the real analysis, listens, and shuts down
 * cleanly on SIGTERM/SIGINT (the job in progress finishes; an interrupted one is recovered at the
 * next start).
 */
import { loadConfig } from './config';
import { KneeTumorError, isKneeTumorError } from './errors';
import { jsonLog } from './log';
import { loadPacsAnalysis } from './pipeline/pacs-analysis';
import { createService } from './service';

async function start(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.pacs) throw new KneeTumorError('config-invalid', 'the service needs pacs.dicomWebUrl (KNEE_TUMOR_DICOMWEB_URL)');
  if (!config.service) throw new KneeTumorError('config-invalid', 'the service needs the service section (KNEE_TUMOR_BASE_URL, KNEE_TUMOR_PORT)');
  const { analyse, detector } = await loadPacsAnalysis(config.pacs, config.model, config.analysis, (message) => jsonLog('execution-provider-fallback', { message }));
  const service = createService(config, analyse, detector.identity);
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
