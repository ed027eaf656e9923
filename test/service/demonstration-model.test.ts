/**
 * The service's gate on demonstration models: with the shipped ensemble (trained on synthetic
 * images) `npm run serve` refuses to start unless model.allowDemonstrationModel is set, and says
 * which setting; with it, it starts. Checked on createService (the seam main.ts and the demo
 * share) and on the built serve entry itself, run as `npm run serve` runs it (needs `npm run
 * build`). The test detector double stands for a model for clinical evaluation.
 */
import { DEFAULT_MANIFEST, loadConfig } from '../../server/src/config';
import { isKneeTumorError } from '../../server/src/errors';
import { silentLog } from '../../server/src/log';
import { loadManifest } from '../../server/src/model/manifest';
import { createService } from '../../server/src/service';
import { runServe } from '../support/serve-process';
import { TEST_MODEL, testConfig } from '../support/service-config';

const notUsed = () => Promise.reject(new Error('not used'));

function refusal(start: () => unknown): string {
  try {
    start();
  } catch (error) {
    if (isKneeTumorError(error)) return `${error.code}: ${error.reason}`;
    throw error;
  }
  throw new Error('it started');
}

describe('createService', () => {
  it('refuses the shipped demonstration model unless the configuration allows it, naming the setting', async () => {
    const { identity } = await loadManifest(DEFAULT_MANIFEST);
    expect(identity.intendedUse).toBe('demonstration');
    const message = refusal(() => createService(testConfig('http://127.0.0.1:9/fhir', []), notUsed, identity, silentLog));
    expect(message.startsWith(`config-invalid: the model ${identity.name} ${identity.version} is a demonstration model (trained on synthetic images)`)).toBe(true);
    expect(message).toContain('model.allowDemonstrationModel (KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL=true)');

    const allowed = createService(testConfig('http://127.0.0.1:9/fhir', [], { model: { allowDemonstrationModel: true } }), notUsed, identity, silentLog);
    await allowed.stop();
  });

  it('starts a model for clinical evaluation without the setting', async () => {
    const service = createService(testConfig('http://127.0.0.1:9/fhir', []), notUsed, TEST_MODEL, silentLog);
    await service.stop();
  });
});

describe('model.allowDemonstrationModel', () => {
  it('is false by default and set by KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL=true|false; any other value is refused', () => {
    expect(loadConfig({}).model.allowDemonstrationModel).toBe(false);
    expect(loadConfig({ KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL: 'true' }).model.allowDemonstrationModel).toBe(true);
    expect(loadConfig({ KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL: 'false' }).model.allowDemonstrationModel).toBe(false);
    expect(refusal(() => loadConfig({ KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL: 'yes' }))).toMatch(/^config-invalid: .*allowDemonstrationModel/);
  });
});

describe('npm run serve', () => {
  it('exits 1 with config-invalid on the shipped model by default, and listens when the setting allows it', async () => {
    const refused = await runServe({});
    expect(refused.code).toBe(1);
    const line = JSON.parse(refused.log.trim().split('\n').at(-1) ?? '{}') as { event?: string; code?: string; reason?: string };
    expect(line).toMatchObject({ event: 'start-failed', code: 'config-invalid' });
    expect(line.reason).toContain('KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL=true');

    const started = await runServe({ KNEE_TUMOR_ALLOW_DEMONSTRATION_MODEL: 'true' }, 'listening');
    expect(started.code).toBe(0);
    expect(started.log).toContain('"event":"listening"');
    const { identity } = await loadManifest(DEFAULT_MANIFEST);
    expect(started.log).toContain(`"model":"${identity.name}@${identity.version}"`);
    expect(started.log).not.toContain('start-failed');
  }, 60000);
});
