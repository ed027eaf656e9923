/** The demo EHR's CDS Hooks client identity: an ES384 key pair, its public JWKS, and hook JWTs. */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CdsClientConfig } from '../config';

export interface CdsSigner {
  client: CdsClientConfig;
  /** A JWT for one call to `audience` (the service's URL), valid for five minutes, used once. */
  token(audience: string): Promise<string>;
}

export async function createCdsSigner(issuer: string): Promise<CdsSigner> {
  const { publicKey, privateKey } = await generateKeyPair('ES384');
  const kid = randomUUID();
  const jwk = await exportJWK(publicKey);
  return {
    client: { issuer, jwks: { keys: [{ ...jwk, kty: jwk.kty ?? 'EC', kid, alg: 'ES384', use: 'sig' }] } },
    async token(audience) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
