import { JtiCache } from '../../cds-hooks/jti-cache';

describe('JtiCache', () => {
  it('refuses a token id again until its token expires, per issuer', () => {
    const cache = new JtiCache();
    expect(cache.firstUse('https://ehr.a', 'id-1', 60_000, 0)).toBe(true);
    expect(cache.firstUse('https://ehr.a', 'id-1', 60_000, 30_000)).toBe(false);
    expect(cache.firstUse('https://ehr.b', 'id-1', 60_000, 30_000)).toBe(true);
    // Past its expiry the id is no replay risk (the token itself is refused as expired).
    expect(cache.firstUse('https://ehr.a', 'id-1', 120_000, 60_001)).toBe(true);
    expect(cache.firstUse('https://ehr.a', 'id-1', 120_000, 90_000)).toBe(false);
  });
});
