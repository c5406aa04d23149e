import { EventEmitter } from 'node:events';
import type { LeaseScope } from '../protocol/leases.js';

export interface LeaseEntry {
  leaseId: string;
  /** Credential name (what the daemon calls provider). */
  credential: string;
  scope: LeaseScope;
  ttlMs: number;
  grantedAt: number;
  expiresAt: number;
}

export interface LeaseBookEvents {
  dropped: [LeaseEntry, string];
}

/** Renew 'connection' leases at this share of their TTL, well before they lapse. */
const RENEW_AT = 2 / 3;

/**
 * Leases this agent granted on one link. 'connection' leases are renewed (via `renew`)
 * while the link lives; 'once' leases lapse. Everything is dropped when the link closes.
 */
export class LeaseBook extends EventEmitter<LeaseBookEvents> {
  private readonly leases = new Map<string, LeaseEntry>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly renew: (leaseId: string, ttlMs: number) => void) {
    super();
  }

  add(lease: Omit<LeaseEntry, 'grantedAt' | 'expiresAt'>): LeaseEntry {
    const now = Date.now();
    const entry: LeaseEntry = { ...lease, grantedAt: now, expiresAt: now + lease.ttlMs };
    this.leases.set(entry.leaseId, entry);
    this.schedule(entry);
    return entry;
  }

  /** A live lease, or undefined if unknown, ended or past its expiry. */
  get(leaseId: string): LeaseEntry | undefined {
    const entry = this.leases.get(leaseId);
    if (entry && entry.expiresAt <= Date.now()) {
      this.drop(leaseId, 'expired');
      return undefined;
    }
    return entry;
  }

  list(): LeaseEntry[] {
    return [...this.leases.values()];
  }

  get size(): number {
    return this.leases.size;
  }

  drop(leaseId: string, reason: string): boolean {
    const entry = this.leases.get(leaseId);
    if (!entry) return false;
    this.leases.delete(leaseId);
    clearTimeout(this.timers.get(leaseId));
    this.timers.delete(leaseId);
    this.emit('dropped', entry, reason);
    return true;
  }

  clear(reason: string): void {
    for (const id of [...this.leases.keys()]) this.drop(id, reason);
  }

  private schedule(entry: LeaseEntry): void {
    clearTimeout(this.timers.get(entry.leaseId));
    const timer =
      entry.scope === 'connection'
        ? setTimeout(() => {
            entry.expiresAt = Date.now() + entry.ttlMs;
            this.renew(entry.leaseId, entry.ttlMs);
            this.schedule(entry);
          }, Math.floor(entry.ttlMs * RENEW_AT))
        : setTimeout(() => this.drop(entry.leaseId, 'expired'), entry.ttlMs);
    timer.unref();
    this.timers.set(entry.leaseId, timer);
  }
}
