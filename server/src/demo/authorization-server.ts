/**
 * The demo EHR's SMART authorization server: oauth2-mock-server (a real OAuth 2 server that checks
 * PKCE) with what SMART App Launch adds. The EHR registers a launch (patient, study, the card's
 * appContext) and gets a `launch` id; the authorize request must carry that id and PKCE S256; the
 * token response then carries `patient`, `fhirContext` and `appContext`, and the access token
 * names the patient, the granted scopes and the FHIR server as audience.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import { OAuth2Server } from 'oauth2-mock-server';

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
}

interface Grant {
  context: LaunchContext;
  scope: string;
}

function queryOf(req: IncomingMessage): Record<string, unknown> {
  return (req as IncomingMessage & { query?: Record<string, unknown> }).query ?? {};
}

function codeOf(req: IncomingMessage): string | undefined {
  const code = (req as IncomingMessage & { body?: { code?: unknown } }).body?.code;
  return typeof code === 'string' ? code : undefined;
}

export async function createAuthorizationServer(issuer: string, fhirBaseUrl: string): Promise<AuthorizationServer> {
  const server = new OAuth2Server();
  server.issuer.url = issuer;
  await server.issuer.keys.generate('RS256');
  const launches = new Map<string, LaunchContext>();
  const grants = new Map<string, Grant>();

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
    grants.set(code, { context, scope: typeof query.scope === 'string' ? query.scope : '' });
  });

  server.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }, req: IncomingMessage) => {
    const grant = grants.get(codeOf(req) ?? '');
    // The access token is the one without an audience (the id token's is the client id).
    if (!grant || token.payload.aud !== undefined) return;
    Object.assign(token.payload, { scope: grant.scope, patient: grant.context.patient, aud: fhirBaseUrl });
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
    Object.assign(response.body, {
      scope: grant.scope,
      patient: context.patient,
      need_patient_banner: false,
      ...(context.imagingStudy ? { fhirContext: [{ reference: context.imagingStudy }] } : {}),
      ...(context.appContext ? { appContext: context.appContext } : {}),
    });
  });

  return {
    issuer,
    handler: server.service.requestHandler,
    registerLaunch(context) {
      const id = randomUUID();
      launches.set(id, context);
      return id;
    },
  };
}
