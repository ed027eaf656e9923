/** The Orthanc harness lives with the demo, which starts one too; tests import it from here. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startOrthanc, type RunningOrthanc } from '../../server/src/demo/orthanc';
import { TRIGGER_TOKEN } from './service-config';

export { startOrthanc, type OrthancOptions, type RunningOrthanc } from '../../server/src/demo/orthanc';

/** An Orthanc whose stable-study Lua callback (server/orthanc/) triggers the service on servicePort. */
export function startTriggeringOrthanc(servicePort: number): Promise<RunningOrthanc> {
  const settings = path.join(mkdtempSync(path.join(os.tmpdir(), 'lua-')), 'knee-tumor-settings.lua');
  writeFileSync(settings, `KNEE_TUMOR_TRIGGER = { url = 'http://127.0.0.1:${servicePort}/triggers/orthanc', token = '${TRIGGER_TOKEN}' }\n`);
  const callback = path.resolve(__dirname, '../../server/orthanc/on-stable-study.lua');
  return startOrthanc({ luaScripts: [settings, callback], stableAgeSeconds: 1 });
}
