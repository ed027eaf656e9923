/**
 * An access token kept while it has life left: renewed before it expires (when less than a tenth
 * of its lifetime, at most 60 s, is left), fetched once for any number of concurrent requests, and
 * dropped when a resource server refuses it.
 */

export interface IssuedToken {
  accessToken: string;
  /** The token endpoint's `expires_in`, in seconds, when it said. */
  expiresInSeconds?: number;
}

export interface ServiceTokenCache {
  /** A token with life left; concurrent callers share one request to the token endpoint. */
  get(): Promise<string>;
  /** Forgets `token` if it is still the one kept, so that the next get() asks for a new one. */
  invalidate(token: string): void;
}

/** A token endpoint that does not say how long its tokens live is asked again after this. */
const ASSUMED_LIFETIME_SECONDS = 300;
const MAX_RENEWAL_MARGIN_MS = 60_000;

/** When to ask for a new token: a tenth of the lifetime (at most 60 s) before it ends, counted from the request. */
export function renewalTime(requestedAt: number, expiresInSeconds: number | undefined): number {
  const lifetimeMs = (expiresInSeconds ?? ASSUMED_LIFETIME_SECONDS) * 1000;
  return requestedAt + lifetimeMs - Math.min(MAX_RENEWAL_MARGIN_MS, lifetimeMs / 10);
}

export function createServiceTokenCache(fetchToken: () => Promise<IssuedToken>, now: () => number = Date.now): ServiceTokenCache {
  let kept: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchAndKeep(): Promise<string> {
    const requestedAt = now();
    const issued = await fetchToken();
    kept = { token: issued.accessToken, renewAt: renewalTime(requestedAt, issued.expiresInSeconds) };
    return issued.accessToken;
  }

  return {
    get() {
      if (kept && now() < kept.renewAt) return Promise.resolve(kept.token);
      // A failed request is not kept: the next caller asks again.
      pending ??= fetchAndKeep().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate(token) {
      if (kept?.token === token) kept = undefined;
    },
  };
}
