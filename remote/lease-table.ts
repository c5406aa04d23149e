import { LEASE_TOKEN_PREFIX, type LeaseEnded } from '../protocol/index.js';
import { randomToken, sha256Hex } from '../protocol/node/crypto.js';
import type { ForwardedCredential } from './forward-relay.js';
import type { LeaseScope } from '../protocol/leases.js';

export interface Lease {
  token: string;
  leaseId: string;
  linkId: string;
  laptop: string;
  /** Credential name: what tools put in the proxy path. */
  name: string;
  /** Provider spec id (protocol/providers.ts). */
  provider: string;
  scope: LeaseScope;
  expiresAt: number;
  pid: number;
  /** Forward mode: the laptop's minted secret, in memory only; dropped when the lease ends. */
  forward?: ForwardedCredential;
}

/** Why a lease ended. 'disconnected' never reaches the wire: the link is already gone. */
export type LeaseEndReason = LeaseEnded['reason'] | 'disconnected';

const WHY: Record<LeaseEndReason, string> = {
  disconnected: 'laptop disconnected',
  expired: 'lease expired',
  revoked: 'lease revoked on the laptop',
  released: 'lease released',
  'daemon-stopping': 'the tether daemon is stopping',
};

/** setTimeout's ceiling; longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const UNKNOWN_TOKEN_WHY = 'unknown lease token (it may predate a daemon restart): run `tether token <name>` for a new one';

export type TokenLookup =
  | { state: 'live'; lease: Lease }
  | { state: 'ended'; why: string; name: string; provider: string }
  | { state: 'unknown'; why: string };

interface EndedRecord {
  why: string;
  linkId: string;
  leaseId: string;
  name: string;
  provider: string;
  at: number;
}

export interface LeaseTableOptions {
  now?: () => number;
  endedMemory?: number;
  endedMemoryMs?: number;
}

/**
 * Live leases by token, in memory only. Ended tokens are remembered (by hash, never the
 * token) for a while so the proxy can say why a token stopped working.
 */
export class LeaseTable {
  private readonly byToken = new Map<string, Lease>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ended = new Map<string, EndedRecord>();
  private readonly now: () => number;
  private readonly endedMemory: number;
  private readonly endedMemoryMs: number;
  /** Told about every lease that ends, with the reason, so the link can send lease.ended. */
  onEnded: (lease: Lease, reason: LeaseEndReason) => void = () => {};

  constructor(opts: LeaseTableOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.endedMemory = opts.endedMemory ?? 10_000;
    this.endedMemoryMs = opts.endedMemoryMs ?? 60 * 60 * 1000;
  }

  add(fields: Omit<Lease, 'token'>): Lease {
    const lease: Lease = { ...fields, token: LEASE_TOKEN_PREFIX + randomToken(32) };
    this.byToken.set(lease.token, lease);
    this.schedule(lease);
    return lease;
  }

  lookup(token: string): TokenLookup {
    const lease = this.byToken.get(token);
    if (lease) {
      if (lease.expiresAt > this.now()) return { state: 'live', lease };
      this.end(lease, 'expired');
    }
    this.pruneEnded();
    const record = this.ended.get(sha256Hex(token));
    if (record) return { state: 'ended', why: record.why, name: record.name, provider: record.provider };
    return { state: 'unknown', why: UNKNOWN_TOKEN_WHY };
  }

  /** Extends a lease of this link; false when it is not (or no longer) there. */
  renew(linkId: string, leaseId: string, ttlMs: number): boolean {
    const lease = this.find(linkId, leaseId);
    if (!lease) return false;
    lease.expiresAt = this.now() + ttlMs;
    this.schedule(lease);
    return true;
  }

  find(linkId: string, leaseId: string): Lease | undefined {
    for (const lease of this.byToken.values()) if (lease.linkId === linkId && lease.leaseId === leaseId) return lease;
    return undefined;
  }

  release(token: string): boolean {
    const lease = this.byToken.get(token);
    if (!lease) return false;
    this.end(lease, 'released');
    return true;
  }

  /** Ends the given leases of a link, or all of them when `leaseIds` is undefined; returns how many. */
  endForLink(linkId: string, reason: LeaseEndReason, leaseIds?: readonly string[]): number {
    const wanted = leaseIds ? new Set(leaseIds) : undefined;
    let count = 0;
    for (const lease of [...this.byToken.values()]) {
      if (lease.linkId !== linkId || (wanted && !wanted.has(lease.leaseId))) continue;
      this.end(lease, reason);
      count++;
    }
    return count;
  }

  endAll(reason: LeaseEndReason): void {
    for (const lease of [...this.byToken.values()]) this.end(lease, reason);
  }

  list(): Lease[] {
    return [...this.byToken.values()];
  }

  /** Why a lease of this link ended, while it is remembered. */
  endedWhy(linkId: string, leaseId: string): string | undefined {
    for (const record of this.ended.values()) if (record.linkId === linkId && record.leaseId === leaseId) return record.why;
    return undefined;
  }

  hasLeaseId(leaseId: string): boolean {
    for (const lease of this.byToken.values()) if (lease.leaseId === leaseId) return true;
    return false;
  }

  private end(lease: Lease, reason: LeaseEndReason): void {
    if (!this.byToken.delete(lease.token)) return;
    // An expired or released lease lets a running response finish; any other end cuts it.
    lease.forward?.drop(reason !== 'expired' && reason !== 'released');
    clearTimeout(this.timers.get(lease.token));
    this.timers.delete(lease.token);
    this.ended.set(sha256Hex(lease.token), { why: WHY[reason], linkId: lease.linkId, leaseId: lease.leaseId, name: lease.name, provider: lease.provider, at: this.now() });
    this.pruneEnded();
    this.onEnded(lease, reason);
  }

  private schedule(lease: Lease): void {
    clearTimeout(this.timers.get(lease.token));
    const timer = setTimeout(() => {
      if (this.byToken.get(lease.token) !== lease) return;
      if (lease.expiresAt > this.now()) this.schedule(lease);
      else this.end(lease, 'expired');
    }, Math.min(Math.max(0, lease.expiresAt - this.now()), MAX_TIMER_MS));
    timer.unref();
    this.timers.set(lease.token, timer);
  }

  private pruneEnded(): void {
    const cutoff = this.now() - this.endedMemoryMs;
    for (const [key, record] of this.ended) {
      if (this.ended.size <= this.endedMemory && record.at > cutoff) break;
      this.ended.delete(key);
    }
  }
}
