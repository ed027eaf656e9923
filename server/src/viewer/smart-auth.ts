/**
 * Checks the SMART access token the viewer app presents, the way the deployment's EHR allows
 * (`smart.tokenValidation.mode`): a JWT signed by its authorization server (`jwt`), the EHR's
 * introspection endpoint (`introspection`, any token, opaque included), or the EHR's FHIR server
 * itself (`fhir`, the launch patient learnt by brokering the app's token request). Whatever the
 * mode, the patient comes from the EHR (the token's claims, the introspection answer, the token
 * response the broker saw), never from the request, and the token must allow patient-level reads
 * of imaging. The app never holds PACS credentials; this token is all it has.
 */
import type { FhirConfig, SmartConfig } from '../config';
import { createFhirTokenCheck } from './fhir-token-check';
import { createIntrospectionCheck, introspectionCredentials } from './introspection';
import { createJwtCheck } from './jwt-check';
import { createTokenBroker, type TokenBroker } from './token-broker';
import { createTokenCheckCache } from './token-cache';
import { sessionEnded, type SmartAuthenticator, type SmartCaller, type TokenGrant } from './token-grant';

export interface SmartAccess {
  authenticate: SmartAuthenticator;
  /** The app's token requests go through it (`fhir` mode only). */
  tokenBroker?: TokenBroker;
}

/** A check that depends on the token alone, remembered per token. */
function cachedPerToken(check: (token: string) => Promise<TokenGrant>): SmartAuthenticator {
  const cache = createTokenCheckCache<SmartCaller>();
  return async ({ token }) => {
    if (!token) throw sessionEnded('a SMART access token is required');
    const known = cache.get(token);
    if (known) return known;
    const grant = await check(token);
    cache.set(token, grant.caller, grant.expiresAt);
    return grant.caller;
  };
}

/** `fhir`: the service's own FHIR settings, whose token an introspection endpoint may take (clientAuth bearer). */
export function createSmartAuthenticator(config: SmartConfig, fhir?: FhirConfig): SmartAccess {
  const validation = config.tokenValidation;
  switch (validation.mode) {
    case 'jwt':
      return { authenticate: cachedPerToken(createJwtCheck(validation, config.fhirBaseUrl, config.maxTokenLifetimeSeconds)) };
    case 'introspection':
      return { authenticate: cachedPerToken(createIntrospectionCheck(validation, introspectionCredentials(validation, fhir), config.timeoutMs, config.maxTokenLifetimeSeconds)) };
    case 'fhir': {
      const tokenBroker = createTokenBroker({ fhirBaseUrl: config.fhirBaseUrl, tokenUrl: validation.tokenUrl, timeoutMs: config.timeoutMs, maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds });
      return { authenticate: createFhirTokenCheck(config.fhirBaseUrl, config.timeoutMs, tokenBroker.patientOf), tokenBroker };
    }
  }
}
