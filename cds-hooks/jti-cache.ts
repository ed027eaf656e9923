/**
 * Remembers each token id (jti) until its token expires, so a captured token cannot be replayed.
 * In memory: one service process answers hooks; after a restart tokens older than maxTokenAge are
 * refused anyway.
 */
export class JtiCache {
  private readonly expiries = new Map<string, number>();

  /** True the first time an issuer's jti is seen before it expires; false on a replay. */
  firstUse(issuer: string, jti: string, expiresAtMs: number, now = Date.now()): boolean {
    for (const [key, expiry] of this.expiries) if (expiry < now) this.expiries.delete(key);
    const key = `${issuer}\n${jti}`;
    if (this.expiries.has(key)) return false;
    this.expiries.set(key, expiresAtMs);
    return true;
  }
}
