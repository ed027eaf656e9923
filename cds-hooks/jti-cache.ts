/**
 * Remembers each token id (jti) until its token expires, so a captured token cannot be replayed.
 * In memory: one service process answers hooks; after a restart tokens older than maxTokenAge are
 * refused anyway.
 */

/** Expired ids are swept at most this often, so a hook never pays for scanning every id. */
const SWEEP_INTERVAL_MS = 10_000;

export class JtiCache {
  private readonly expiries = new Map<string, number>();
  private nextSweep = 0;

  /** True the first time an issuer's jti is seen before it expires; false on a replay. */
  firstUse(issuer: string, jti: string, expiresAtMs: number, now = Date.now()): boolean {
    if (now >= this.nextSweep) {
      for (const [key, expiry] of this.expiries) if (expiry < now) this.expiries.delete(key);
      this.nextSweep = now + SWEEP_INTERVAL_MS;
    }
    const key = `${issuer}\n${jti}`;
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry >= now) return false;
    this.expiries.set(key, expiresAtMs);
    return true;
  }
}
