/**
 * Checks the SMART access token the viewer app presents, the way the deployment's EHR allows
 * (`smart.tokenValidation.mode`): a JWT signed by its authorization server (`jwt`), the EHR's
 * introspection endpoint (`introspection`, any token, opaque included), or the EHR's FHIR server
 * itself (`fhir`). Whatever the mode, the patient comes from the launch, never from what the
 * request asks for, and the token must allow patient-level reads of imaging. The app never holds
 * PACS credentials; this token is all it has.
 */
import type { SmartConfig } from '../config';
import { createFhirTokenCheck } from './fhir-token-check';
import { createIntrospectionCheck } from './introspection';
import { createJwtCheck } from './jwt-check';
import { createTokenCache } from './token-cache';
import { sessionEnded, type SmartAuthenticator, type SmartCaller, type TokenGrant } from './token-grant';

/** A check that depends on the token alone, remembered per token. */
function cachedPerToken(check: (token: string) => Promise<TokenGrant>): SmartAuthenticator {
  const cache = createTokenCache<SmartCaller>();
  return async ({ token }) => {
    if (!token) throw sessionEnded('a SMART access token is required');
    const known = cache.get(token);
    if (known) return known;
    const grant = await check(token);
    cache.set(token, grant.caller, grant.expiresAt);
    return grant.caller;
  };
}

export function createSmartAuthenticator(config: SmartConfig): SmartAuthenticator {
  const validation = config.tokenValidation;
  switch (validation.mode) {
    case 'jwt':
      return cachedPerToken(createJwtCheck(validation, config.fhirBaseUrl, config.maxTokenLifetimeSeconds));
    case 'introspection':
      return cachedPerToken(createIntrospectionCheck(validation, config.timeoutMs, config.maxTokenLifetimeSeconds));
    case 'fhir':
      return createFhirTokenCheck(config.fhirBaseUrl, config.timeoutMs);
  }
}
