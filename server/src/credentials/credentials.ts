/**
 * The credentials this service presents to a PACS or a FHIR server, as one async provider both
 * clients ask before each request: fixed basic or bearer credentials, or an access token from the
 * system's token endpoint (OAuth 2.0 client credentials with a secret, or SMART Backend Services
 * with a signed assertion), kept and renewed by a token cache. Keys are read here, once, when a
 * client is composed.
 */
import type { HttpAuth, SmartBackendAuth, ClientCredentialsAuth } from '../config';
import { CLIENT_ASSERTION_TYPE, loadSigningKey, signClientAssertion } from './client-assertion';
import { createServiceTokenCache, type IssuedToken } from './token-cache';
import { discoverTokenUrl, requestToken, type RemoteSystem } from './token-endpoint';

export type { RemoteSystem } from './token-endpoint';

export interface Credentials {
  /** The Authorization header value for the next request; undefined when none is configured. */
  authorization(): Promise<string | undefined>;
  /**
   * The server answered 401 to `authorization`: a token is forgotten and true says that one more
   * try with a fresh one may succeed; fixed credentials stay refused (false).
   */
  refused(authorization: string | undefined): boolean;
}

export interface CredentialTarget {
  system: RemoteSystem;
  /** The server the credentials are for (a FHIR server's SMART configuration is found from it). */
  baseUrl: string;
  timeoutMs: number;
}

/** The header to send, as a record to spread into a request's headers. */
export function authorizationHeaders(authorization: string | undefined): Record<string, string> {
  return authorization === undefined ? {} : { Authorization: authorization };
}

/** Credentials that never change (refused once, refused for good). */
export function fixedCredentials(authorization: string | undefined): Credentials {
  return { authorization: () => Promise.resolve(authorization), refused: () => false };
}

function renewable(fetchToken: () => Promise<IssuedToken>): Credentials {
  const cache = createServiceTokenCache(fetchToken);
  return {
    authorization: async () => `Bearer ${await cache.get()}`,
    refused(authorization) {
      const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
      if (token === undefined) return false;
      cache.invalidate(token);
      return true;
    },
  };
}

function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** RFC 6749 section 2.3.1: the client_secret_basic Authorization value, id and secret form-encoded before base64. */
export function clientSecretBasic(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncoded(clientId)}:${formEncoded(clientSecret)}`).toString('base64')}`;
}

function clientSecretToken(auth: ClientCredentialsAuth, target: CredentialTarget): () => Promise<IssuedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...(auth.scope ? { scope: auth.scope } : {}) });
  const authorization = clientSecretBasic(auth.clientId, auth.clientSecret);
  return () => requestToken({ system: target.system, url: auth.tokenUrl, timeoutMs: target.timeoutMs }, form, { Authorization: authorization });
}

function backendServiceToken(auth: SmartBackendAuth, target: CredentialTarget): () => Promise<IssuedToken> {
  const key = loadSigningKey(auth);
  let tokenUrl = auth.tokenUrl;
  return async () => {
    tokenUrl ??= await discoverTokenUrl(target.baseUrl, target.timeoutMs);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: auth.scope,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await signClientAssertion(key, auth, tokenUrl),
    });
    return requestToken({ system: target.system, url: tokenUrl, timeoutMs: target.timeoutMs }, form);
  };
}

export function createCredentials(auth: HttpAuth | undefined, target: CredentialTarget): Credentials {
  switch (auth?.type) {
    case undefined:
      return fixedCredentials(undefined);
    case 'basic':
      return fixedCredentials(`Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`);
    case 'bearer':
      return fixedCredentials(`Bearer ${auth.token}`);
    case 'oauth2-client-credentials':
      return renewable(clientSecretToken(auth, target));
    case 'smart-backend':
      return renewable(backendServiceToken(auth, target));
  }
}
