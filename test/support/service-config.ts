/** A validated configuration of the CDS service for tests, pointed at a test FHIR server. */
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig, type Config } from '../../server/src/config';
import type { ModelIdentity } from '../../server/src/domain/analysis';

export const TEST_MODEL: ModelIdentity = { name: 'knee-tumor', version: '1.0.0', manifestSha256: 'a'.repeat(64), trainingData: 'clinical', intendedUse: 'clinical-evaluation' };
export const TRIGGER_TOKEN = 'trigger-token-0123456789abcdef0123456789';
export const SERVICE_BASE = 'https://cds.knee-tumor.example.org';

export function testConfig(fhirBaseUrl: string, clients: Config['cdsClients'], overrides: Record<string, unknown> = {}): Config {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'cds-'));
  return parseConfig({
    fhir: { baseUrl: fhirBaseUrl, timeoutMs: 3000 },
    // Port 0: startService listens on a free port, so that test files run at once never meet on 8080.
    service: { baseUrl: SERVICE_BASE, port: 0, appLaunchUrl: 'https://viewer.knee-tumor.example.org/launch', modelCardUrl: 'https://knee-tumor.example.org/model-card' },
    cdsClients: clients,
    jobs: { databasePath: path.join(folder, 'jobs.sqlite'), initialBackoffMs: 50, maxBackoffMs: 200, pollIntervalMs: 50, maxAttempts: 3 },
    triggers: { httpToken: TRIGGER_TOKEN, orthancToken: TRIGGER_TOKEN, subscriptionToken: TRIGGER_TOKEN },
    // The audit trail goes to a file beside the database, not into the test output.
    operations: { auditLogPath: path.join(folder, 'audit.jsonl') },
    // Off unless a test turns it on (test/triggers/reconcile.test.ts): a pass at start could queue a study before the trigger a test sends.
    reconcile: { enabled: false },
    ...overrides,
  });
}
