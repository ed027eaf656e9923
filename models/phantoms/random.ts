/**
 * The one source of randomness of the phantoms: a small seeded PRNG (sfc32), so that the same
 * seed gives byte-identical studies on every machine and Node version. Math.random is never used.
 */

/** Mixes integers into a 32-bit seed (murmur3 finaliser), so that nearby seeds give unrelated streams. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = (h + Math.imul(Math.floor(part / 0x100000000) | 0, 0x27d4eb2f)) | 0;
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = hashSeed(seed, 1);
    this.b = hashSeed(seed, 2);
    this.c = hashSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Standard normal deviate (Box-Muller; one of the pair is dropped to keep the stream simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  /** Picks by weight; the weights need not sum to 1. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0);
    let r = this.next() * total;
    for (const [item, weight] of items) {
      r -= weight;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (last === undefined) throw new RangeError('weighted pick from an empty list');
    return last[0];
  }

  /** A child stream, so that adding a draw in one part of a study does not shift the others. */
  fork(label: number): Rng {
    return new Rng(hashSeed(this.nextUint32(), label));
  }
}

/**
 * A UID under the 2.25 root (PS3.5 B.2: a UUID as a decimal integer), built from 122 random bits
 * of the stream so that it is unique in practice and still reproducible from the seed.
 */
export function uid(rng: Rng): string {
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(rng.nextUint32());
  value &= (1n << 122n) - 1n;
  return `2.25.${(value | (1n << 121n)).toString()}`;
}
