/**
 * OAuth 2.0 client credentials for the PACS against real components: oauth2-mock-server checks the
 * client secret (client_secret_basic), and a gateway in front of Orthanc accepts only its tokens.
 * STOW-RS, QIDO-RS and WADO-RS go through with the token; concurrent requests share one token
 * request; a token the PACS refuses is renewed once; a wrong secret fails at once as
 * pacs-unauthorized without reaching the PACS.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig, type PacsConfig } from '../../server/src/config';
import { DicomWebClient } from '../../server/src/dicomweb/client';
import { parsePart10 } from '../../server/src/dicom/part10';
import { startBearerGuard, type BearerGuard } from '../support/bearer-guard';
import { startOrthanc, type RunningOrthanc } from '../support/orthanc';
import { SHARED_DICOM } from '../support/shared-data';
import { startTokenServer, type TokenServer } from '../support/token-server';

const PACS_AUDIENCE = 'https://pacs.example.org/dicom-web';
// Characters that client_secret_basic must form-encode before base64.
const SECRET = 'pacs secret: with & and %';

const file = new Uint8Array(readFileSync(path.join(SHARED_DICOM, 'RG3_512_explicitLE.dcm')));
const header = parsePart10(file, { headerOnly: true });
const instance = {
  studyInstanceUid: header.string('x0020000d') as string,
  seriesInstanceUid: header.string('x0020000e') as string,
  sopInstanceUid: header.string('x00080018') as string,
};

let tokens: TokenServer;
let orthanc: RunningOrthanc;
let guard: BearerGuard;

beforeAll(async () => {
  tokens = await startTokenServer([{ clientId: 'knee-ai-pacs', audience: PACS_AUDIENCE, clientSecret: SECRET }]);
  orthanc = await startOrthanc();
  guard = await startBearerGuard(orthanc.dicomWebUrl, { issuer: tokens.issuer, jwksUrl: tokens.jwksUrl, audience: PACS_AUDIENCE, requiredScope: 'dicomweb' });
});

afterAll(async () => {
  await guard.stop();
  await orthanc.stop();
  await tokens.stop();
});

function pacsClient(clientSecret = SECRET): DicomWebClient {
  const config = parseConfig({
    pacs: { dicomWebUrl: guard.url, timeoutMs: 20000, auth: { type: 'oauth2-client-credentials', tokenUrl: tokens.tokenUrl, clientId: 'knee-ai-pacs', clientSecret, scope: 'dicomweb' } },
  });
  return new DicomWebClient(config.pacs as PacsConfig);
}

async function issued(): Promise<number> {
  return (await tokens.requests()).filter((r) => r.outcome === 'issued').length;
}

it('stores, searches and retrieves through the token, one token request for many concurrent requests', async () => {
  await pacsClient().storeInstances([file]);
  const client = pacsClient();
  const already = await issued();
  const answers = await Promise.all(Array.from({ length: 12 }, () => client.searchSeries(instance.studyInstanceUid)));
  expect(answers.every((series) => series.length === 1)).toBe(true);
  const retrieved = await client.retrieveInstance(instance, '*');
  expect(parsePart10(retrieved, { headerOnly: true }).string('x00080018')).toBe(instance.sopInstanceUid);
  expect((await issued()) - already).toBe(1);
  expect(guard.seen.every((c) => c.outcome === 'passed' && c.clientId === 'knee-ai-pacs')).toBe(true);
});

it('renews a token the PACS refuses with 401 and sends the request once more', async () => {
  const client = pacsClient();
  await client.searchSeries(instance.studyInstanceUid);
  const already = await issued();
  guard.revokeSeenTokens();
  const before = guard.seen.length;
  await expect(client.searchSeries(instance.studyInstanceUid)).resolves.toHaveLength(1);
  expect(guard.seen.slice(before).map((c) => c.outcome)).toEqual(['refused', 'passed']);
  expect((await issued()) - already).toBe(1);
});

it('fails at once with pacs-unauthorized when the token endpoint refuses the secret, before any request reaches the PACS', async () => {
  const before = guard.seen.length;
  const error = await pacsClient('not the secret')
    .searchSeries(instance.studyInstanceUid)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toMatchObject({ code: 'pacs-unauthorized', retryable: false });
  expect((error as Error).message).toContain('invalid_client');
  expect(guard.seen.slice(before)).toEqual([]);
});
