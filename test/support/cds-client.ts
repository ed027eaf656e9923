/**
 * A CDS client's signing side for tests: an ES384 key pair, its JWKS, and CDS Hooks JWTs made
 * with jose exactly as an EHR makes them (or broken on purpose).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export interface TestCdsClient {
  issuer: string;
  kid: string;
  jwks: { keys: Array<Record<string, unknown> & { kty: string }> };
  token(audience: string, options?: { expiresInSeconds?: number; issuedAt?: number; jti?: string; jku?: string; issuer?: string }): Promise<string>;
}

/** `kid`: give another client's key id to make a token whose signature cannot verify. */
export async function createTestCdsClient(issuer = 'https://ehr.example.org', kid: string = randomUUID()): Promise<TestCdsClient> {
  const { publicKey, privateKey } = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  return {
    issuer,
    kid,
    jwks: { keys: [{ ...jwk, kty: jwk.kty ?? 'EC' }] },
    async token(audience, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT', ...(options.jku ? { jku: options.jku } : {}) })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(audience)
        .setIssuedAt(options.issuedAt ?? now)
        .setExpirationTime(now + (options.expiresInSeconds ?? 300))
        .setJti(options.jti ?? randomUUID())
        .sign(privateKey);
    },
  };
}
