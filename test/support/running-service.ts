/**
 * The CDS service listening on loopback (on config.service.port, or a free port when it is 0),
 * with its worker started, as main.ts runs it.
 */
import type { Server } from 'node:http';
import type { Config } from '../../server/src/config';
import type { ModelIdentity } from '../../server/src/domain/analysis';
import type { Analyse } from '../../server/src/pipeline/run-analysis';
import { createService, type KneeTumorService } from '../../server/src/service';
import { silentLog } from '../../server/src/log';
import { freePort } from './orthanc';
import { TEST_MODEL } from './service-config';

export interface RunningService {
  service: KneeTumorService;
  url: string;
  stop(): Promise<void>;
}

export async function startService(config: Config, analyse: Analyse, model: ModelIdentity = TEST_MODEL): Promise<RunningService> {
  const service = createService(config, analyse, model, silentLog);
  const port = config.service?.port || (await freePort());
  const server: Server = await new Promise((resolve) => {
    const s = service.app.listen(port, '127.0.0.1', () => resolve(s));
  });
  service.start();
  return {
    service,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await service.stop();
    },
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
