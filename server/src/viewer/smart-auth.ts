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
import { sessionEnded, type SmartCaller, type TokenGrant } from './token-grant';

export type { SmartCaller } from './token-grant';

/** What a request to /app-api brings: the token, the launch patient the app was told, the study it asks for. */
export interface AccessRequest {
  token?: string;
  /** The `patient` of the app's token response (used by the `fhir` mode, which has nothing else to go on). */
  launchPatient?: string;
  studyInstanceUid?: string;
}

export type SmartAuthenticator = (request: AccessRequest) => Promise<SmartCaller>;

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
      return cachedPerToken(createJwtCheck(validation, config.fhirBaseUrl));
    case 'introspection':
      return cachedPerToken(createIntrospectionCheck(validation, config.timeoutMs));
    case 'fhir':
      return createFhirTokenCheck(config.fhirBaseUrl, config.timeoutMs);
  }
}
