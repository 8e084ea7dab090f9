import { randomFillSync } from 'node:crypto';

/**
 * Randomness is injected everywhere so the protocol engine and the simulator
 * are deterministic under a seed.
 */
export interface RandomSource {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
}

/** Uniform integer in [low, high) (upper bound exclusive, like GLib's g_random_int_range). */
export function randomInRange(random: RandomSource, low: number, high: number): number {
  const span = high - low;
  if (!(span > 0) || span > 0x1_0000_0000) throw new RangeError(`bad range [${low}, ${high})`);
  // Rejection sampling keeps the distribution exactly uniform.
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % span);
  for (;;) {
    const x = random.nextUint32();
    if (x < limit) return low + (x % span);
  }
}

/** Float in [0, 1). */
export function randomFraction(random: RandomSource): number {
  return random.nextUint32() / 0x1_0000_0000;
}

/**
 * Small, fast, seedable PRNG (sfc32 seeded through splitmix32) for simulations
 * and property tests. Not for anything secret.
 */
export class SeededRandom implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    let s = this.seed;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An independent stream derived from this one (e.g. one per simulated node). */
  fork(): SeededRandom {
    return new SeededRandom(this.nextUint32());
  }
}

/** Cryptographically strong randomness for real nodes (ids must not collide across hosts). */
export class CryptoRandom implements RandomSource {
  private readonly pool = new Uint32Array(256);
  private index = 256;

  nextUint32(): number {
    if (this.index >= this.pool.length) {
      randomFillSync(this.pool);
      this.index = 0;
    }
    return this.pool[this.index++]!;
  }
}
