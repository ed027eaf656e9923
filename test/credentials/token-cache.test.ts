/** The token cache on its own, with a clock the test moves: renewal before expiry, one fetch for concurrent callers, refusals. */
import { createServiceTokenCache, renewalTime, type IssuedToken } from '../../server/src/credentials/token-cache';

function endpoint(lifetimes: Array<number | undefined>) {
  let issued = 0;
  const fetchToken = jest.fn(async (): Promise<IssuedToken> => {
    await new Promise((r) => setImmediate(r));
    const expiresInSeconds = lifetimes[issued];
    issued += 1;
    return expiresInSeconds === undefined ? { accessToken: `token-${issued}` } : { accessToken: `token-${issued}`, expiresInSeconds };
  });
  return fetchToken;
}

it('renews a tenth of the lifetime before expiry, and at most 60 s before', () => {
  expect(renewalTime(0, 3600)).toBe(3600_000 - 60_000);
  expect(renewalTime(0, 300)).toBe(300_000 - 30_000);
  expect(renewalTime(1000, 10)).toBe(1000 + 10_000 - 1000);
});

it('keeps a token while it has life left and asks for a new one when it is near its end', async () => {
  let now = 0;
  const fetchToken = endpoint([300, 300]);
  const cache = createServiceTokenCache(fetchToken, () => now);
  expect(await cache.get()).toBe('token-1');
  now = 269_000;
  expect(await cache.get()).toBe('token-1');
  now = 271_000;
  expect(await cache.get()).toBe('token-2');
  expect(fetchToken).toHaveBeenCalledTimes(2);
});

it('asks once for any number of concurrent callers', async () => {
  const fetchToken = endpoint([300]);
  const cache = createServiceTokenCache(fetchToken, () => 0);
  const tokens = await Promise.all(Array.from({ length: 25 }, () => cache.get()));
  expect(new Set(tokens)).toEqual(new Set(['token-1']));
  expect(fetchToken).toHaveBeenCalledTimes(1);
});

it('forgets a refused token once, however many requests saw it refused', async () => {
  const fetchToken = endpoint([300, 300, 300]);
  const cache = createServiceTokenCache(fetchToken, () => 0);
  const first = await cache.get();
  cache.invalidate(first);
  const second = await cache.get();
  cache.invalidate(first);
  expect(await cache.get()).toBe(second);
  expect([first, second]).toEqual(['token-1', 'token-2']);
  expect(fetchToken).toHaveBeenCalledTimes(2);
});

it('keeps no failure: the next caller asks the token endpoint again', async () => {
  const fetchToken = jest.fn<Promise<IssuedToken>, []>().mockRejectedValueOnce(new Error('down')).mockResolvedValueOnce({ accessToken: 'fresh', expiresInSeconds: 60 });
  const cache = createServiceTokenCache(fetchToken, () => 0);
  await expect(cache.get()).rejects.toThrow('down');
  expect(await cache.get()).toBe('fresh');
});

it('assumes five minutes when the token endpoint does not say how long a token lives', async () => {
  let now = 0;
  const fetchToken = endpoint([undefined, undefined]);
  const cache = createServiceTokenCache(fetchToken, () => now);
  await cache.get();
  now = 269_000;
  expect(await cache.get()).toBe('token-1');
  now = 271_000;
  expect(await cache.get()).toBe('token-2');
});
