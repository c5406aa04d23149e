/**
 * A small seeded PRNG (mulberry32) and the draws the fuzzer makes from it: the same seed
 * gives the same frames, so every failure replays from its seed.
 */
export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  uint32(): number {
    return Math.floor(this.next() * 4294967296);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.next() * 256) | 0;
    return out;
  }

  /** A string of `n` characters from `alphabet`. */
  string(n: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet[(this.next() * alphabet.length) | 0];
    return out;
  }

  /** A child generator for one unit of work (a connection), so units replay alone too. */
  fork(): Prng {
    return new Prng(this.uint32());
  }
}

/** The seed a run uses: FUZZ_SEED to replay one, otherwise a fresh one (printed by the caller). */
export function runSeed(env: string | undefined = process.env.FUZZ_SEED): number {
  if (env !== undefined && env !== '') {
    const seed = Number(env);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`FUZZ_SEED must be an integer in [0, 2^32): got ${env}`);
    return seed;
  }
  return (Math.random() * 4294967296) >>> 0;
}
