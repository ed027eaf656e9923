/**
 * The CDS service listening on loopback, with its worker started, as main.ts runs it: on a port
 * the kernel gives at listen time (config.service.port is not used), or on `listening`, a server
 * started before the service because the service's port had to be known first (an Orthanc
 * trigger's URL, a service base URL).
 */
import type { Config } from '../../server/src/config';
import type { ModelIdentity } from '../../server/src/domain/analysis';
import type { Analyse } from '../../server/src/pipeline/run-analysis';
import { createService, type KneeTumorService } from '../../server/src/service';
import { silentLog } from '../../server/src/log';
import { listenOnLoopback, type ListeningServer } from './loopback';
import { TEST_MODEL } from './service-config';

export interface RunningService {
  service: KneeTumorService;
  url: string;
  stop(): Promise<void>;
}

export async function startService(config: Config, analyse: Analyse, model: ModelIdentity = TEST_MODEL, listening?: ListeningServer): Promise<RunningService> {
  const service = createService(config, analyse, model, silentLog);
  const { server, origin } = listening ?? (await listenOnLoopback());
  server.on('request', service.app);
  service.start();
  return {
    service,
    url: origin,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await service.stop();
    },
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
