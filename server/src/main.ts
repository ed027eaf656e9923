/**
 * The CDS service process: reads the configuration once, starts the analysis worker thread (which
 * loads the ensemble), composes the service (job store, worker, CDS Hooks, triggers) around it,
 * listens, and shuts down cleanly on SIGTERM/SIGINT (the job in progress finishes; an interrupted
 * one is recovered at the next start).
 */
import { loadConfig } from './config';
import { KneeTumorError, isKneeTumorError } from './errors';
import { jsonLog } from './log';
import { startAnalysisPool } from './pipeline/analysis-pool';
import { createService } from './service';

async function start(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.pacs) throw new KneeTumorError('config-invalid', 'the service needs pacs.dicomWebUrl (KNEE_TUMOR_DICOMWEB_URL)');
  if (!config.service) throw new KneeTumorError('config-invalid', 'the service needs the service section (KNEE_TUMOR_BASE_URL, KNEE_TUMOR_PORT)');
  const analysis = await startAnalysisPool(config.pacs, config.model, config.analysis, (message) => jsonLog('execution-provider-fallback', { message }));
  const service = createService(config, analysis.analyse, analysis.identity);
  const { host, port } = config.service;
  const server = service.app.listen(port, host, () => {
    jsonLog('listening', { host, port, model: `${analysis.identity.name}@${analysis.identity.version}`, executionProvider: analysis.executionProvider });
  });
  service.start();
  const shutdown = (signal: string) => {
    jsonLog('stopping', { signal });
    server.close();
    service
      .stop()
      .then(() => analysis.release())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

start().catch((error: unknown) => {
  jsonLog('start-failed', isKneeTumorError(error) ? { code: error.code, reason: error.reason } : { reason: String(error) });
  process.exit(1);
});
