/**
 * What a token check concluded, remembered per token so that each image of a study does not
 * repeat the introspection or FHIR round trip. The key is a hash of the token (the token itself is
 * never kept), and an entry lives no longer than the token (its `exp`) nor than five minutes, so
 * a revoked token stops working within five minutes.
 */
import { createHash } from 'node:crypto';

export const MAX_CACHE_SECONDS = 300;
/** Expired entries are swept when the cache grows past this, bounding its memory. */
const SWEEP_ABOVE = 1000;

export interface TokenCheckCache<T> {
  get(token: string, scope?: string): T | undefined;
  /** `expiresAt`: the token's own expiry in seconds since the epoch, when known. */
  set(token: string, value: T, expiresAt?: number, scope?: string): void;
}

/** The hash a token is remembered by; `scope` separates conclusions about one token (a study, a patient). */
export function tokenKey(token: string, scope = ''): string {
  return createHash('sha256').update(token).update('\n').update(scope).digest('base64url');
}

/** How long a conclusion may be kept, in milliseconds: until the token expires, at most `maxSeconds` (five minutes). */
export function cacheLifetimeMs(nowMs: number, expiresAt?: number, maxSeconds = MAX_CACHE_SECONDS): number {
  const cap = maxSeconds * 1000;
  return expiresAt === undefined ? cap : Math.max(0, Math.min(cap, expiresAt * 1000 - nowMs));
}

/** `maxSeconds`: the longest an entry lives (the token broker keeps its bindings for a token's whole life). */
export function createTokenCheckCache<T>(now: () => number = Date.now, maxSeconds = MAX_CACHE_SECONDS): TokenCheckCache<T> {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    get(token, scope) {
      const key = tokenKey(token, scope);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.until > now()) return entry.value;
      entries.delete(key);
      return undefined;
    },
    set(token, value, expiresAt, scope) {
      const lifetime = cacheLifetimeMs(now(), expiresAt, maxSeconds);
      if (lifetime <= 0) return;
      if (entries.size >= SWEEP_ABOVE) for (const [key, entry] of entries) if (entry.until <= now()) entries.delete(key);
      entries.set(tokenKey(token, scope), { value, until: now() + lifetime });
    },
  };
}
