import crypto from 'node:crypto';
import { PAIR_CODE_ALPHABET, PAIR_CODE_LENGTH } from '../protocol/index.js';
import { macEquals } from '../protocol/node/crypto.js';

export const PAIR_CODE_TTL_MS = 10 * 60 * 1000;
/** Bounds memory if someone calls pair-code in a loop; the oldest code goes first. */
const MAX_LIVE_CODES = 64;

export interface IssuedPairCode {
  /** 13 characters of Crockford base32, unformatted. */
  code: string;
  expiresAt: number;
}

/** One-time pairing codes: memory only, single use, short-lived. */
export class PairCodes {
  private readonly live = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: { ttlMs?: number; now?: () => number } = {}) {
    this.ttlMs = opts.ttlMs ?? PAIR_CODE_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  issue(): IssuedPairCode {
    this.prune();
    // 65 random bits: 13 symbols of 5 bits each, drawn from 9 random bytes.
    let bits = BigInt('0x' + crypto.randomBytes(9).toString('hex'));
    let code = '';
    for (let i = 0; i < PAIR_CODE_LENGTH; i++) {
      code += PAIR_CODE_ALPHABET[Number(bits & 31n)];
      bits >>= 5n;
    }
    const expiresAt = this.now() + this.ttlMs;
    this.live.set(code, expiresAt);
    while (this.live.size > MAX_LIVE_CODES) this.live.delete(this.live.keys().next().value as string);
    return { code, expiresAt };
  }

  /**
   * Finds the live code for which `expectedMac(code)` equals `mac`, consumes it and returns
   * it. Every live code is compared in constant time; the code itself never travels.
   */
  match(mac: string, expectedMac: (code: string) => string): string | undefined {
    this.prune();
    let found: string | undefined;
    for (const code of this.live.keys()) {
      if (macEquals(expectedMac(code), mac)) found = code;
    }
    if (found !== undefined) this.live.delete(found);
    return found;
  }

  get size(): number {
    this.prune();
    return this.live.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [code, expiresAt] of this.live) if (expiresAt <= now) this.live.delete(code);
  }
}
