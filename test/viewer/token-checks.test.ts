/**
 * The pure pieces of the viewer's token checks and of the app's reading of refusals: the `smart`
 * configuration (today's flat shape is the `jwt` mode), how long a conclusion is kept, the launch
 * patient of a token's claims, an introspection answer, the app's mapping
 * of error codes and of allowed issuers; and the `jwt` mode against a JWKS served over HTTP.
 */
import { SignJWT } from 'jose';
import { AccessRefusedError, apiError, SessionExpiredError } from '../../client/src/api-errors';
import { issuerAllowed } from '../../client/src/app-config';
import { parseConfig } from '../../server/src/config';
import { KneeTumorError } from '../../server/src/errors';
import { introspectionRequest, grantOfIntrospection } from '../../server/src/viewer/introspection';
import { createSmartAuthenticator } from '../../server/src/viewer/smart-auth';
import { cacheLifetimeMs, createTokenCache } from '../../server/src/viewer/token-cache';
import { grantOfClaims, patientClaim } from '../../server/src/viewer/token-grant';
import { startJwksIssuer, type JwksIssuer } from '../support/jwks-issuer';

const FHIR = 'https://ehr.example.org/fhir/R4';
const now = () => Math.floor(Date.now() / 1000);

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof KneeTumorError ? error.code : 'not-a-knee-tumor-error';
  }
  return undefined;
}

describe('the smart configuration', () => {
  it('reads today\'s flat shape as the jwt mode, with the app settings defaulted', () => {
    const smart = parseConfig({ smart: { issuer: 'https://ehr.example.org/auth', jwksUrl: 'https://ehr.example.org/auth/jwks', fhirBaseUrl: FHIR } }).smart;
    expect(smart?.tokenValidation).toEqual({ mode: 'jwt', issuer: 'https://ehr.example.org/auth', jwksUrl: 'https://ehr.example.org/auth/jwks' });
    expect(smart?.app.clientId).toBe('knee-tumor-viewer');
    expect(smart?.app.scope.split(' ')).toContain('patient/ImagingStudy.rs');
  });

  it('takes the introspection and fhir modes, and refuses an introspection without client credentials', () => {
    const introspection = { mode: 'introspection', introspectionUrl: 'https://ehr.example.org/auth/introspect', clientId: 'knee-ai', clientSecret: 's3cret' };
    expect(parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation: introspection } }).smart?.tokenValidation).toMatchObject({ clientAuth: 'client_secret_basic' });
    expect(parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation: { mode: 'fhir' }, app: { clientId: 'a1b2', allowedIssuers: [FHIR] } } }).smart?.app).toMatchObject({ clientId: 'a1b2' });
    expect(codeOf(() => parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation: { ...introspection, clientSecret: undefined } } }))).toBe('config-invalid');
    expect(codeOf(() => parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation: { mode: 'trust-me' } } }))).toBe('config-invalid');
  });
});

describe('the token cache', () => {
  it('keeps a conclusion until the token expires, never longer than five minutes', () => {
    expect(cacheLifetimeMs(0)).toBe(300_000);
    expect(cacheLifetimeMs(0, 60)).toBe(60_000);
    expect(cacheLifetimeMs(0, 3600)).toBe(300_000);
    expect(cacheLifetimeMs(10_000, 5)).toBe(0);
  });

  it('forgets an entry when its time is up, and keys conclusions by token and scope', () => {
    let clock = 1_000_000;
    const cache = createTokenCache<string>(() => clock);
    cache.set('token-a', 'Patient/1', clock / 1000 + 30);
    cache.set('token-a', 'study ok', undefined, 'study 1.2.3');
    expect(cache.get('token-a')).toBe('Patient/1');
    expect(cache.get('token-b')).toBeUndefined();
    expect(cache.get('token-a', 'study 1.2.3')).toBe('study ok');
    clock += 31_000;
    expect(cache.get('token-a')).toBeUndefined();
    expect(cache.get('token-a', 'study 1.2.3')).toBe('study ok');
    clock += 270_000;
    expect(cache.get('token-a', 'study 1.2.3')).toBeUndefined();
  });
});

describe('the claims of a token', () => {
  it('finds the launch patient at the top or nested in context', () => {
    expect(patientClaim({ patient: '12' })).toBe('12');
    expect(patientClaim({ context: { patient: 'Patient/34' } })).toBe('34');
    expect(patientClaim({ sub: 'dr-who' })).toBeUndefined();
  });

  it('needs patient-level imaging reads and a patient', () => {
    expect(grantOfClaims({ scope: 'launch patient/ImagingStudy.read', patient: '7', exp: 99 }, 'iss').caller).toEqual({ issuer: 'iss', patient: 'Patient/7' });
    expect(codeOf(() => grantOfClaims({ scope: 'launch user/ImagingStudy.rs', patient: '7' }, 'iss'))).toBe('forbidden');
    expect(codeOf(() => grantOfClaims({ scope: 'patient/*.rs' }, 'iss'))).toBe('forbidden');
  });

  it('accepts an introspection answer only when active, with an exp to come', () => {
    const answer = { active: true, scope: 'patient/ImagingStudy.rs', patient: '5', exp: now() + 60 };
    expect(grantOfIntrospection(answer, 'ep')).toEqual({ caller: { issuer: 'ep', patient: 'Patient/5' }, expiresAt: answer.exp });
    expect(codeOf(() => grantOfIntrospection({ active: false }, 'ep'))).toBe('session-expired');
    expect(codeOf(() => grantOfIntrospection({ ...answer, exp: now() - 1 }, 'ep'))).toBe('session-expired');
    expect(codeOf(() => grantOfIntrospection({ ...answer, exp: undefined }, 'ep'))).toBe('forbidden');
    expect(codeOf(() => grantOfIntrospection('<html>', 'ep'))).toBe('token-check-unavailable');
  });

  it('authenticates the introspection request with client_secret_basic or client_secret_post', () => {
    const settings = { mode: 'introspection' as const, introspectionUrl: 'https://x/introspect', clientId: 'knee ai', clientSecret: 'a:b', clientAuth: 'client_secret_basic' as const };
    const basic = introspectionRequest(settings, 'tok');
    expect(Buffer.from(basic.headers.Authorization?.replace('Basic ', '') ?? '', 'base64').toString()).toBe('knee+ai:a%3Ab');
    expect(new URLSearchParams(basic.body).get('token')).toBe('tok');
    const post = introspectionRequest({ ...settings, clientAuth: 'client_secret_post' }, 'tok');
    expect(post.headers.Authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(post.body))).toMatchObject({ token: 'tok', client_id: 'knee ai', client_secret: 'a:b' });
  });
});

describe('the app', () => {
  it('ends the session only for session-expired, and shows the server\'s reason for a refusal by set-up', () => {
    expect(apiError('/app-api/x', 401, { code: 'session-expired', reason: 'expired' })).toBeInstanceOf(SessionExpiredError);
    const refused = apiError('/app-api/x', 502, { code: 'introspection-unauthorized', reason: 'set smart.tokenValidation.clientSecret' });
    expect(refused).toBeInstanceOf(AccessRefusedError);
    expect(refused.message).toBe('set smart.tokenValidation.clientSecret');
    expect(apiError('/app-api/x', 401, { code: 'something-new' })).toBeInstanceOf(AccessRefusedError);
    expect(apiError('/app-api/x', 403, { code: 'patient-mismatch', reason: 'not the launch patient\'s' })).toBeInstanceOf(AccessRefusedError);
    const failure = apiError('/app-api/x', 503, { code: 'token-check-unavailable', reason: 'down' });
    expect(failure).not.toBeInstanceOf(AccessRefusedError);
    expect(failure).not.toBeInstanceOf(SessionExpiredError);
  });

  it('accepts a launch only from an allowed EHR, trailing slash or not', () => {
    const config = { clientId: 'c', scope: 's', allowedIssuers: [`${FHIR}/`] };
    expect(issuerAllowed(FHIR, config)).toBe(true);
    expect(issuerAllowed('https://evil.example.org/fhir', config)).toBe(false);
  });
});

describe('the jwt mode', () => {
  let keys: JwksIssuer;
  let issuer: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  beforeAll(async () => {
    keys = await startJwksIssuer();
    issuer = keys.issuer;
    sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES384', kid: keys.kid }).setIssuer(issuer).setIssuedAt().setExpirationTime('5m').sign(keys.privateKey);
  });
  afterAll(() => keys.stop());

  const check = async (claims: Record<string, unknown>) => {
    const authenticate = createSmartAuthenticator(parseConfig({ smart: { issuer, jwksUrl: `${issuer}/jwks`, fhirBaseUrl: FHIR } }).smart!);
    try {
      return await authenticate({ token: await sign(claims) });
    } catch (error) {
      return (error as KneeTumorError).code;
    }
  };

  it('accepts a token for the FHIR server and refuses one without an aud or for another server', async () => {
    const claims = { scope: 'patient/ImagingStudy.rs', patient: '9' };
    expect(await check({ ...claims, aud: FHIR })).toEqual({ issuer: expect.any(String), patient: 'Patient/9' });
    expect(await check(claims)).toBe('session-expired');
    expect(await check({ ...claims, aud: 'https://other.example.org/fhir' })).toBe('session-expired');
  });
});
