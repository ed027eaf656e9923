/** An authorization server's ES384 signing key with its JWKS served on a loopback port, for tests of JWT access tokens. */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, type KeyLike } from 'jose';

export interface JwksIssuer {
  /** The issuer URL (the JWKS is at `${issuer}/jwks`). */
  issuer: string;
  jwksUrl: string;
  kid: string;
  privateKey: KeyLike;
  stop(): Promise<void>;
}

export async function startJwksIssuer(kid = 'k1'): Promise<JwksIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES384');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384' };
  const app = express();
  app.get('/jwks', (_req, res) => {
    res.json({ keys: [jwk] });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, jwksUrl: `${issuer}/jwks`, kid, privateKey, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
