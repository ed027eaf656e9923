/**
 * SMART Backend Services client authentication (SMART App Launch 2, client-confidential-asymmetric;
 * RFC 7523): a JWT signed with this service's private key, iss = sub = client_id, aud = the token
 * endpoint, a unique jti and an exp no more than five minutes ahead.
 */
import { createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import type { SmartBackendAuth } from '../config';
import { KneeTumorError, messageOf } from '../errors';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Below the spec's five minutes, so that a token endpoint whose clock is ahead still accepts it. */
const ASSERTION_LIFETIME_SECONDS = 240;

/** The key as configured, checked against the algorithm it must sign with; read once, when the client is composed. */
export function loadSigningKey(auth: SmartBackendAuth): KeyObject {
  const source = auth.privateKeyPath ? `fhir.auth.privateKeyPath (${auth.privateKeyPath})` : 'fhir.auth.privateKeyJwk';
  let key: KeyObject;
  try {
    key = auth.privateKeyPath
      ? createPrivateKey(readFileSync(auth.privateKeyPath))
      : createPrivateKey({ key: auth.privateKeyJwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new KneeTumorError('config-invalid', `${source} is not a readable private key: ${messageOf(cause)}`, { cause });
  }
  const fits =
    auth.alg === 'RS384'
      ? key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
  if (!fits) {
    const wanted = auth.alg === 'RS384' ? 'an RSA key of at least 2048 bits' : 'an EC key on P-384';
    throw new KneeTumorError('config-invalid', `${source} holds a ${key.asymmetricKeyType ?? 'unknown'} key; ${auth.alg} needs ${wanted}`);
  }
  return key;
}

export function signClientAssertion(
  key: KeyObject,
  client: Pick<SmartBackendAuth, 'clientId' | 'alg' | 'kid'>,
  tokenUrl: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: client.alg, kid: client.kid, typ: 'JWT' })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(tokenUrl)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ASSERTION_LIFETIME_SECONDS)
    .setJti(randomUUID())
    .sign(key);
}
