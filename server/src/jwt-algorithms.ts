/**
 * The JWS algorithms we verify, for CDS clients' JWTs and viewer access tokens alike: asymmetric
 * only, never "none" and never HMAC (a shared secret would let anyone who knows it sign).
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
