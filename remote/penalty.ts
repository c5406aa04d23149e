/**
 * Slows down and bans sources that keep failing the handshake.
 *
 * Unix-socket peers are all reported as the source 'unix': they are the same uid as the
 * daemon (the socket is 0600 in a 0700 folder), so a ban there would only lock the owner
 * out of their own daemon. They get the growing delay and the in-flight limit, as network
 * sources do, but are never banned.
 *
 * The delay is served before an attempt is checked, and only `maxInFlight` attempts per
 * source may be waiting or checked at once: guesses on parallel connections wait in the same
 * line instead of each being answered after its own delay.
 */
export interface PenaltyOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  banAfter?: number;
  banMs?: number;
  maxInFlight?: number;
  now?: () => number;
}

interface SourceRecord {
  failures: number;
  lastFailureAt: number;
  bannedUntil: number;
}

const MAX_SOURCES = 10_000;
export const UNIX_SOURCE = 'unix';

export class PenaltyBox {
  private readonly sources = new Map<string, SourceRecord>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly banAfter: number;
  private readonly banMs: number;
  private readonly now: () => number;
  private readonly maxInFlight: number;
  private readonly inFlight = new Map<string, number>();
  private readonly banListeners: ((source: string) => void)[] = [];

  constructor(opts: PenaltyOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 4000;
    this.banAfter = opts.banAfter ?? 5;
    this.banMs = opts.banMs ?? 10 * 60 * 1000;
    this.now = opts.now ?? Date.now;
    this.maxInFlight = opts.maxInFlight ?? 4;
  }

  /** Told of each source as it is banned, so its open connections can be closed. */
  onBan(listener: (source: string) => void): void {
    this.banListeners.push(listener);
  }

  /** Starts an attempt; false when this source already has `maxInFlight` attempts under way. */
  begin(source: string): boolean {
    const n = this.inFlight.get(source) ?? 0;
    if (n >= this.maxInFlight) return false;
    this.inFlight.set(source, n + 1);
    return true;
  }

  end(source: string): void {
    const n = (this.inFlight.get(source) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(source);
    else this.inFlight.set(source, n);
  }

  /** How long the next attempt from this source waits before it is checked (what `failure` would return). */
  delayFor(source: string): number {
    const record = this.sources.get(source);
    if (!record || record.failures === 0 || this.now() - record.lastFailureAt > this.banMs) return 0;
    return Math.min(this.baseDelayMs * 2 ** (record.failures - 1), this.maxDelayMs);
  }

  isBanned(source: string): boolean {
    const record = this.sources.get(source);
    return record !== undefined && record.bannedUntil > this.now();
  }

  /**
   * Records a failure and returns how long to wait before answering it: nothing for the
   * first, then 250 ms doubling up to 4 s for each further failure in a row.
   */
  failure(source: string): number {
    const now = this.now();
    const record = this.sources.get(source) ?? { failures: 0, lastFailureAt: 0, bannedUntil: 0 };
    // A quiet period as long as a ban forgives old failures.
    if (now - record.lastFailureAt > this.banMs) record.failures = 0;
    const delay = record.failures === 0 ? 0 : Math.min(this.baseDelayMs * 2 ** (record.failures - 1), this.maxDelayMs);
    record.failures += 1;
    record.lastFailureAt = now;
    const newlyBanned = source !== UNIX_SOURCE && record.failures >= this.banAfter && record.bannedUntil <= now;
    if (source !== UNIX_SOURCE && record.failures >= this.banAfter) record.bannedUntil = now + this.banMs;
    this.sources.delete(source);
    this.sources.set(source, record);
    while (this.sources.size > MAX_SOURCES) this.sources.delete(this.sources.keys().next().value as string);
    if (newlyBanned) for (const listener of this.banListeners) listener(source);
    return delay;
  }

  success(source: string): void {
    this.sources.delete(source);
  }
}
