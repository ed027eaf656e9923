/// <reference lib="dom" />
/**
 * The pure pieces of the viewer's token checks and of the app's reading of refusals: the `smart`
 * configuration (today's flat shape is the `jwt` mode), how long a conclusion is kept, the launch
 * patient of a token's claims, an introspection answer, the app's mapping
 * of error codes and of allowed issuers; the `jwt` mode against a JWKS served over HTTP (a token
 * it cannot validate is token-unverifiable, not an ended session); and introspection with a
 * bearer token, against an endpoint that takes nothing else, behind a real token server's guard.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express from 'express';
import { SignJWT } from 'jose';
import { AccessRefusedError, apiError, SessionExpiredError, TokenUnverifiableError } from '../../client/src/api-errors';
import { issuerAllowed } from '../../client/src/app-config';
import { parseConfig } from '../../server/src/config';
import { KneeTumorError } from '../../server/src/errors';
import { introspectionCredentials, introspectionRequest, grantOfIntrospection } from '../../server/src/viewer/introspection';
import { createSmartAuthenticator } from '../../server/src/viewer/smart-auth';
import { cacheLifetimeMs, createTokenCheckCache } from '../../server/src/viewer/token-cache';
import { grantOfClaims, patientClaim } from '../../server/src/viewer/token-grant';
import { startBearerGuard, type BearerGuard } from '../support/bearer-guard';
import { startJwksIssuer, type JwksIssuer } from '../support/jwks-issuer';
import { serveOnLoopback, type LoopbackServer } from '../support/loopback-proxy';
import { startTokenServer, type TokenServer } from '../support/token-server';

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
    const cache = createTokenCheckCache<string>(() => clock);
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

  it('authenticates the introspection request with client_secret_basic or client_secret_post', async () => {
    const settings = { mode: 'introspection' as const, introspectionUrl: 'https://x/introspect', clientId: 'knee ai', clientSecret: 'a:b', clientAuth: 'client_secret_basic' as const };
    const basic = introspectionRequest(settings, 'tok', await introspectionCredentials(settings).authorization());
    expect(Buffer.from(basic.headers.Authorization?.replace('Basic ', '') ?? '', 'base64').toString()).toBe('knee+ai:a%3Ab');
    expect(new URLSearchParams(basic.body).get('token')).toBe('tok');
    const postSettings = { ...settings, clientAuth: 'client_secret_post' as const };
    const post = introspectionRequest(postSettings, 'tok', await introspectionCredentials(postSettings).authorization());
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
    const unverifiable = apiError('/app-api/x', 401, { code: 'token-unverifiable', reason: 'smart.tokenValidation.mode jwt verifies only asymmetric signatures' });
    expect(unverifiable).toBeInstanceOf(TokenUnverifiableError);
    expect(unverifiable.message).toContain('smart.tokenValidation.mode jwt');
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
  let strangers: JwksIssuer;
  let issuer: string;
  let sign: (claims: Record<string, unknown>, signer?: JwksIssuer) => Promise<string>;
  beforeAll(async () => {
    keys = await startJwksIssuer();
    strangers = await startJwksIssuer('k2');
    issuer = keys.issuer;
    sign = (claims, signer = keys) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES384', kid: signer.kid }).setIssuer(issuer).setIssuedAt().setExpirationTime('5m').sign(signer.privateKey);
  });
  afterAll(async () => {
    await keys.stop();
    await strangers.stop();
  });

  const check = async (token: string | Promise<string>) => {
    const { authenticate } = createSmartAuthenticator(parseConfig({ smart: { issuer, jwksUrl: `${issuer}/jwks`, fhirBaseUrl: FHIR } }).smart!);
    try {
      return await authenticate({ token: await token });
    } catch (error) {
      return `${(error as KneeTumorError).code}: ${(error as KneeTumorError).reason}`;
    }
  };
  const claims = { scope: 'patient/ImagingStudy.rs', patient: '9', aud: FHIR };

  it('accepts a token for the FHIR server; one without an aud or for another server is the set-up\'s mismatch', async () => {
    expect(await check(sign(claims))).toEqual({ issuer: expect.any(String), patient: 'Patient/9' });
    expect(await check(sign({ ...claims, aud: undefined }))).toMatch(/^token-unverifiable: .*smart\.fhirBaseUrl/);
    expect(await check(sign({ ...claims, aud: 'https://other.example.org/fhir' }))).toMatch(/^token-unverifiable: .*smart\.fhirBaseUrl/);
  });

  it('answers a token it cannot validate with token-unverifiable, naming the mode and what to configure, never session-expired', async () => {
    const hs256 = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode('a secret only the EHR knows, 32+ bytes'));
    const unknownKid = sign(claims, strangers);
    const otherIssuer = new SignJWT(claims).setProtectedHeader({ alg: 'ES384', kid: keys.kid }).setIssuer('https://other.example.org/auth').setIssuedAt().setExpirationTime('5m').sign(keys.privateKey);
    for (const token of [hs256, unknownKid, otherIssuer, 'an-opaque-token']) {
      const answer = await check(token);
      expect(answer).toMatch(/^token-unverifiable: /);
      expect(answer).toMatch(/smart\.tokenValidation\.(mode jwt|jwksUrl|issuer)/);
      expect(answer).toContain('introspection or fhir');
    }
    expect(await check(hs256)).toMatch(/signed with HS256; smart\.tokenValidation\.mode jwt verifies only asymmetric signatures/);
  });

  it('ends the session only for an expired token', async () => {
    const expired = new SignJWT(claims).setProtectedHeader({ alg: 'ES384', kid: keys.kid }).setIssuer(issuer).setIssuedAt(Math.floor(Date.now() / 1000) - 600).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(keys.privateKey);
    expect(await check(expired)).toMatch(/^session-expired: /);
  });
});

describe('introspection with a bearer token (an endpoint that takes nothing else)', () => {
  const SERVICE_TOKEN = 'the-token-the-ehr-gave-the-knee-service';
  const AUDIENCE = 'https://ehr.example.org/auth/introspect';
  const backendKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = (key: KeyObject) => key.export({ format: 'jwk' }) as Record<string, unknown>;
  const backendAuth = { type: 'smart-backend', clientId: 'knee-ai', scope: 'system/ImagingStudy.rs', alg: 'ES384', kid: 'es-1', privateKeyJwk: jwk(backendKey.privateKey) };
  const answer = () => ({ active: true, scope: 'launch patient/ImagingStudy.rs', patient: '77', exp: now() + 300 });
  let fixedBearer: LoopbackServer;
  let introspection: LoopbackServer;
  let tokens: TokenServer;
  let guard: BearerGuard;
  const seenAuthorization: string[] = [];

  beforeAll(async () => {
    // As SMART launchers' introspection: only `Authorization: Bearer` with the token it issued the service.
    fixedBearer = await serveOnLoopback(async (request, response) => {
      seenAuthorization.push(request.headers.authorization ?? '');
      const accepted = request.headers.authorization === `Bearer ${SERVICE_TOKEN}`;
      response.writeHead(accepted ? 200 : 401, { 'Content-Type': 'application/json' }).end(JSON.stringify(accepted ? answer() : { error: 'invalid_token' }));
    });
    // An introspection endpoint behind a gateway that takes the service's SMART Backend Services tokens.
    const endpoint = express().post('/auth/introspect', (_req, res) => void res.json(answer()));
    introspection = await serveOnLoopback(async (request, response) => void endpoint(request as express.Request, response as express.Response));
    tokens = await startTokenServer([{ clientId: 'knee-ai', audience: AUDIENCE, alg: 'ES384', kid: 'es-1', publicJwk: jwk(backendKey.publicKey) }]);
    guard = await startBearerGuard(`http://127.0.0.1:${introspection.port}/auth`, { issuer: tokens.issuer, jwksUrl: tokens.jwksUrl, audience: AUDIENCE });
  }, 60000);
  afterAll(async () => {
    await guard.stop();
    await tokens.stop();
    await introspection.stop();
    await fixedBearer.stop();
  });

  const checkWith = async (tokenValidation: Record<string, unknown>, fhirAuth?: Record<string, unknown>) => {
    const config = parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation }, ...(fhirAuth ? { fhir: { baseUrl: FHIR, auth: fhirAuth } } : {}) });
    const { authenticate } = createSmartAuthenticator(config.smart!, config.fhir);
    try {
      return await authenticate({ token: 'an-opaque-app-token' });
    } catch (error) {
      return `${(error as KneeTumorError).code}: ${(error as KneeTumorError).reason}`;
    }
  };
  const fixedUrl = () => `http://127.0.0.1:${fixedBearer.port}/introspect`;

  it('sends a configured bearer token', async () => {
    expect(await checkWith({ mode: 'introspection', introspectionUrl: fixedUrl(), clientAuth: 'bearer', token: SERVICE_TOKEN })).toEqual({ issuer: fixedUrl(), patient: 'Patient/77' });
    expect(seenAuthorization.at(-1)).toBe(`Bearer ${SERVICE_TOKEN}`);
  });

  it('sends the service\'s own SMART Backend Services token (fhir.auth)', async () => {
    expect(await checkWith({ mode: 'introspection', introspectionUrl: `${guard.url}/introspect`, clientAuth: 'bearer' }, { ...backendAuth, tokenUrl: tokens.tokenUrl })).toMatchObject({ patient: 'Patient/77' });
    expect(guard.seen.at(-1)).toMatchObject({ outcome: 'passed', clientId: 'knee-ai' });
  });

  it('says the endpoint refused the bearer token, and what to set', async () => {
    expect(await checkWith({ mode: 'introspection', introspectionUrl: fixedUrl(), clientAuth: 'bearer', token: 'not-the-one' })).toMatch(
      /^introspection-unauthorized: .*refused this service's bearer token \(smart\.tokenValidation\.token; HTTP 401\).*set smart\.tokenValidation\.token/,
    );
  });

  it('with a client secret, names bearer as the way to an endpoint that takes only bearer tokens', async () => {
    const refused = await checkWith({ mode: 'introspection', introspectionUrl: fixedUrl(), clientId: 'knee-ai', clientSecret: 's3cret' });
    expect(refused).toMatch(/^introspection-unauthorized: .*clientAuth \(client_secret_basic, client_secret_post, or bearer where the endpoint takes only a bearer token\)/);
  });

  it('does not start with bearer and no token to send (config-invalid naming the settings)', () => {
    const smart = parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation: { mode: 'introspection', introspectionUrl: fixedUrl(), clientAuth: 'bearer' } } }).smart!;
    expect(() => createSmartAuthenticator(smart)).toThrow(expect.objectContaining({ code: 'config-invalid', reason: expect.stringContaining('set smart.tokenValidation.token, or give fhir.auth of type smart-backend') }));
    expect(codeOf(() => parseConfig({ smart: { fhirBaseUrl: FHIR, tokenValidation: { mode: 'introspection', introspectionUrl: fixedUrl(), clientAuth: 'client_secret_post', clientId: 'x' } } }))).toBe('config-invalid');
  });
});
