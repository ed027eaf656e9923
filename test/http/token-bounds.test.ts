/**
 * Bounds on the tokens we accept: a SMART access token needs an `aud` naming the EHR's FHIR
 * server and may live at most smart.maxTokenLifetimeSeconds (jwt and introspection modes); a CDS
 * client's JWT may live at most service.maxTokenAgeSeconds, so that its `jti` is kept no longer.
 * And the address `serve` binds: loopback unless configured.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { loadConfig, parseConfig } from '../../server/src/config';
import { KneeTumorError } from '../../server/src/errors';
import { silentLog } from '../../server/src/log';
import { createService, type KneeTumorService } from '../../server/src/service';
import { grantOfIntrospection } from '../../server/src/viewer/introspection';
import { createSmartAuthenticator } from '../../server/src/viewer/smart-auth';
import { createTestCdsClient, type TestCdsClient } from '../support/cds-client';
import { SERVICE_BASE, TEST_MODEL, testConfig } from '../support/service-config';
import { startJwksIssuer, type JwksIssuer } from '../support/jwks-issuer';

const FHIR = 'https://ehr.example.org/fhir/R4';
const HOUR = 3600;
const YEAR = 365 * 24 * HOUR;
const now = () => Math.floor(Date.now() / 1000);

describe('SMART access tokens (jwt mode)', () => {
  let keys: JwksIssuer;
  let issuer: string;
  /** `issuedAt` null: a token without iat. */
  let sign: (claims: Record<string, unknown>, lifetimeSeconds: number, issuedAt?: number | null) => Promise<string>;
  beforeAll(async () => {
    keys = await startJwksIssuer();
    issuer = keys.issuer;
    sign = (claims, lifetimeSeconds, issuedAt = now()) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES384', kid: keys.kid }).setIssuer(issuer).setExpirationTime((issuedAt ?? now()) + lifetimeSeconds);
      return (issuedAt === null ? jwt : jwt.setIssuedAt(issuedAt)).sign(keys.privateKey);
    };
  });
  afterAll(() => keys.stop());

  const check = async (token: string, smart: Record<string, unknown> = {}) => {
    const authenticate = createSmartAuthenticator(parseConfig({ smart: { issuer, jwksUrl: `${issuer}/jwks`, fhirBaseUrl: FHIR, ...smart } }).smart!).authenticate;
    try {
      return await authenticate({ token });
    } catch (error) {
      return `${(error as KneeTumorError).code}: ${(error as KneeTumorError).reason}`;
    }
  };
  const claims = { scope: 'launch patient/ImagingStudy.rs', patient: '9', fhirUser: 'Practitioner/4' };

  it('needs an aud naming the FHIR server', async () => {
    expect(await check(await sign({ ...claims, aud: FHIR }, HOUR))).toEqual({ issuer, patient: 'Patient/9', user: 'Practitioner/4' });
    expect(await check(await sign(claims, HOUR))).toMatch(/^token-unverifiable: .*aud/);
    expect(await check(await sign({ ...claims, aud: 'https://other.example.org/fhir' }, HOUR))).toMatch(/^token-unverifiable: .*aud/);
  });

  it('refuses a token that lives longer than the bound (one hour unless configured)', async () => {
    expect(await check(await sign({ ...claims, aud: FHIR }, 100 * YEAR))).toMatch(/^token-unverifiable: the access token lives \d+ s, longer than the 3600 s accepted/);
    expect(await check(await sign({ ...claims, aud: FHIR }, HOUR + 60))).toMatch(/^token-unverifiable: .*longer than the 3600 s/);
    expect(await check(await sign({ ...claims, aud: FHIR }, HOUR), { maxTokenLifetimeSeconds: 900 })).toMatch(/longer than the 900 s/);
    // Without iat, what is left of its life counts.
    expect(await check(await sign({ ...claims, aud: FHIR }, 10 * YEAR, null))).toMatch(/^token-unverifiable: the access token lives \d+ s, longer/);
    expect(await check(await sign({ ...claims, aud: FHIR }, HOUR - 60, null))).toMatchObject({ patient: 'Patient/9' });
  });
});

describe('SMART access tokens (introspection mode)', () => {
  it('refuses an active token whose life exceeds the bound', () => {
    const answer = { active: true, scope: 'patient/ImagingStudy.rs', patient: '5' };
    expect(grantOfIntrospection({ ...answer, exp: now() + 600 }, 'ep', HOUR).caller.patient).toBe('Patient/5');
    expect(() => grantOfIntrospection({ ...answer, exp: now() + 100 * YEAR }, 'ep', HOUR)).toThrow(/lives \d+ s, longer than the 3600 s/);
    expect(() => grantOfIntrospection({ ...answer, iat: now() - 2 * HOUR, exp: now() + 600 }, 'ep', HOUR)).toThrow(/longer than the 3600 s/);
  });
});

describe('CDS client JWTs', () => {
  let ehr: TestCdsClient;
  let service: KneeTumorService;
  beforeAll(async () => {
    ehr = await createTestCdsClient();
    service = createService(testConfig('http://127.0.0.1:9/fhir', [{ issuer: ehr.issuer, jwks: ehr.jwks }]), () => Promise.reject(new Error('not used')), TEST_MODEL, silentLog);
  });
  afterAll(() => service.stop());

  const audience = `${SERVICE_BASE}/cds-services/knee-tumor-patient-view`;
  const body = () => ({ hook: 'patient-view', hookInstance: randomUUID(), context: { patientId: 'p' }, prefetch: { kneeStudies: null, analysisReports: null } });
  const call = async (token: string) => request(service.app).post('/cds-services/knee-tumor-patient-view').set('Authorization', `Bearer ${token}`).send(body());

  it('accepts a token living the 5 minutes of maxTokenAgeSeconds, refuses one living longer', async () => {
    expect((await call(await ehr.token(audience, { expiresInSeconds: 300 }))).status).toBe(200);
    const longLived = await call(await ehr.token(audience, { expiresInSeconds: 100 * YEAR }));
    expect([longLived.status, longLived.body.reason]).toEqual([401, expect.stringMatching(/lives \d+ s \(exp - iat\), longer than the 300 s accepted/)]);
    // Refused before its jti was remembered: the same id in a proper token is accepted.
    const jti = randomUUID();
    expect((await call(await ehr.token(audience, { expiresInSeconds: 2 * HOUR, jti }))).status).toBe(401);
    expect((await call(await ehr.token(audience, { jti }))).status).toBe(200);
    expect((await call(await ehr.token(audience, { jti }))).status).toBe(401);
  });
});

describe('the bind address', () => {
  const service = { baseUrl: SERVICE_BASE, appLaunchUrl: 'https://a.example.org', modelCardUrl: 'https://m.example.org' };
  it('is loopback unless set, by the file or KNEE_TUMOR_HOST', () => {
    expect(parseConfig({ service }).service?.host).toBe('127.0.0.1');
    expect(parseConfig({ service: { ...service, host: '0.0.0.0' } }).service?.host).toBe('0.0.0.0');
    expect(loadConfig({ KNEE_TUMOR_BASE_URL: SERVICE_BASE, KNEE_TUMOR_APP_LAUNCH_URL: service.appLaunchUrl, KNEE_TUMOR_MODEL_CARD_URL: service.modelCardUrl, KNEE_TUMOR_HOST: '10.0.0.5' }).service?.host).toBe('10.0.0.5');
  });
});
