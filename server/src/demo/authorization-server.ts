/**
 * The demo EHR's SMART authorization server: oauth2-mock-server (a real OAuth 2 server that checks
 * PKCE) with what SMART App Launch adds. The EHR registers a launch (patient, study, the card's
 * appContext) and gets a `launch` id; the authorize request must carry that id and PKCE S256; the
 * token response then carries `patient`, `fhirContext` and `appContext`, and the access token
 * names the patient, the granted scopes and the FHIR server as audience. With the `fhirUser` scope
 * the id token names the EHR's user (`fhirUser`, a Practitioner's URL), as SMART launchers expect.
 *
 * Access tokens take the form real EHRs use: a JWT signed with the server's RSA key (`jwt`, the
 * default), an opaque random string (`opaque`), or a JWT signed with a secret only this server
 * knows and the patient nested in `context` (`hs256`, as some launchers do). Every issued token can
 * be introspected (RFC 7662, POST {issuer}/introspect) by the registered introspection clients,
 * authenticated with client_secret_basic or client_secret_post, and by the EHR's own FHIR server
 * through `introspect()`.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import express from 'express';
import { OAuth2Server } from 'oauth2-mock-server';

export type AccessTokenForm = 'jwt' | 'opaque' | 'hs256';

export interface AuthorizationServerOptions {
  accessTokens?: AccessTokenForm;
  /** Clients allowed to call the introspection endpoint (resource servers such as our service). */
  introspectionClients?: { clientId: string; clientSecret: string }[];
  /** The user the id token names when the `fhirUser` scope is granted: a FHIR resource's absolute URL. */
  fhirUser?: string;
}

/** What the server knows of an access token it issued. */
export interface IssuedToken {
  /** Patient id, no type prefix. */
  patient: string;
  scope: string;
  /** Seconds since the epoch. */
  exp: number;
  clientId: string;
}

export interface LaunchContext {
  /** Patient id (no type prefix), as SMART's `patient` parameter. */
  patient: string;
  /** e.g. "ImagingStudy/12" */
  imagingStudy?: string;
  /** The CDS card link's appContext, passed on unchanged. */
  appContext?: string;
}

export interface AuthorizationServer {
  issuer: string;
  handler: RequestListener;
  /** Registers an EHR launch and returns its `launch` id. */
  registerLaunch(context: LaunchContext): string;
  /** The token if this server issued it and it has not expired (what an EHR's FHIR server asks). */
  introspect(token: string): IssuedToken | undefined;
}

interface Grant {
  context: LaunchContext;
  scope: string;
  clientId: string;
}

type Body = Record<string, unknown>;

function bodyOf(req: IncomingMessage): Body {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  return typeof body === 'object' && body !== null ? (body as Body) : {};
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT signed with HMAC-SHA256 (jose signs asynchronously; the mock's hooks are synchronous). */
function hs256Jwt(payload: Body, secret: Buffer): string {
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** The client credentials of an introspection request: HTTP Basic (form-encoded parts) or the form. */
function clientCredentials(req: IncomingMessage): { clientId?: string; clientSecret?: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (basic) {
    const [id = '', secret = ''] = Buffer.from(basic, 'base64').toString().split(':');
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' '));
    return { clientId: decode(id), clientSecret: decode(secret) };
  }
  const body = bodyOf(req);
  return { clientId: body.client_id as string | undefined, clientSecret: body.client_secret as string | undefined };
}

function queryOf(req: IncomingMessage): Record<string, unknown> {
  return (req as IncomingMessage & { query?: Record<string, unknown> }).query ?? {};
}

function codeOf(req: IncomingMessage): string | undefined {
  const code = bodyOf(req).code;
  return typeof code === 'string' ? code : undefined;
}

export async function createAuthorizationServer(issuer: string, fhirBaseUrl: string, options: AuthorizationServerOptions = {}): Promise<AuthorizationServer> {
  const form = options.accessTokens ?? 'jwt';
  const secret = randomBytes(32);
  const server = new OAuth2Server();
  server.issuer.url = issuer;
  await server.issuer.keys.generate('RS256');
  const launches = new Map<string, LaunchContext>();
  const grants = new Map<string, Grant>();
  const issued = new Map<string, IssuedToken>();

  server.service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: IncomingMessage) => {
    const query = queryOf(req);
    const code = redirect.url.searchParams.get('code');
    const context = typeof query.launch === 'string' ? launches.get(query.launch) : undefined;
    const refusal =
      query.code_challenge_method !== 'S256' || typeof query.code_challenge !== 'string'
        ? 'PKCE with S256 is required'
        : !context
          ? 'unknown or missing launch'
          : query.aud !== fhirBaseUrl
            ? 'aud must be the FHIR server'
            : undefined;
    if (refusal || !code || !context) {
      redirect.url.searchParams.delete('code');
      redirect.url.searchParams.set('error', 'invalid_request');
      redirect.url.searchParams.set('error_description', refusal ?? 'no code');
      return;
    }
    grants.set(code, { context, scope: typeof query.scope === 'string' ? query.scope : '', clientId: typeof query.client_id === 'string' ? query.client_id : '' });
  });

  server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: IncomingMessage) => {
    const grant = grants.get(codeOf(req) ?? '');
    if (!grant) return;
    // The access token is the one without an audience (the id token's is the client id).
    if (token.payload.aud === undefined) Object.assign(token.payload, { scope: grant.scope, patient: grant.context.patient, aud: fhirBaseUrl });
    else if (options.fhirUser && grant.scope.split(' ').includes('fhirUser')) token.payload.fhirUser = options.fhirUser;
  });

  server.service.on('beforeResponse', (response: { statusCode: number; body: Record<string, unknown> | '' }, req: IncomingMessage) => {
    const code = codeOf(req) ?? '';
    const grant = grants.get(code);
    grants.delete(code);
    if (!grant || response.body === '') {
      response.statusCode = 400;
      response.body = { error: 'invalid_grant' };
      return;
    }
    const { context } = grant;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + Number(response.body.expires_in);
    const accessToken =
      form === 'opaque'
        ? randomBytes(32).toString('base64url')
        : form === 'hs256'
          ? hs256Jwt({ iss: issuer, aud: fhirBaseUrl, exp, iat: now, scope: grant.scope, context: { patient: context.patient } }, secret)
          : String(response.body.access_token);
    issued.set(accessToken, { patient: context.patient, scope: grant.scope, exp, clientId: grant.clientId });
    Object.assign(response.body, {
      access_token: accessToken,
      scope: grant.scope,
      patient: context.patient,
      need_patient_banner: false,
      ...(context.imagingStudy ? { fhirContext: [{ reference: context.imagingStudy }] } : {}),
      ...(context.appContext ? { appContext: context.appContext } : {}),
    });
  });

  const introspect = (token: string): IssuedToken | undefined => {
    const known = issued.get(token);
    return known && known.exp * 1000 > Date.now() ? known : undefined;
  };

  server.service.on('beforeIntrospect', (response: { statusCode: number; body: unknown }, req: IncomingMessage) => {
    const { clientId, clientSecret } = clientCredentials(req);
    if (!(options.introspectionClients ?? []).some((c) => c.clientId === clientId && c.clientSecret === clientSecret)) {
      response.statusCode = 401;
      response.body = { error: 'invalid_client' };
      return;
    }
    const token = bodyOf(req).token;
    const known = typeof token === 'string' ? introspect(token) : undefined;
    response.body = known
      ? { active: true, scope: known.scope, patient: known.patient, exp: known.exp, client_id: known.clientId, token_type: 'Bearer', iss: issuer, aud: fhirBaseUrl }
      : { active: false };
  });

  // The mock reads no body on its introspection endpoint: the form is parsed before it.
  const handler = express();
  handler.post('/introspect', express.urlencoded({ extended: false }));
  handler.use(server.service.requestHandler);

  return {
    issuer,
    handler,
    introspect,
    registerLaunch(context) {
      const id = randomUUID();
      launches.set(id, context);
      return id;
    },
  };
}
