import type { ForwardSecret } from '../protocol/index.js';
import type { CommandToken, Minted } from './forward-credential.js';
import type { LeaseBook } from './lease-book.js';

/** A minted secret as it travels: validity relative to now, so the two clocks need not agree. */
export function forwardSecret(minted: Minted): ForwardSecret {
  return { secret: minted.secret, expiresInMs: Math.max(1000, minted.expiresAt - Date.now()) };
}

/** After a failed run of the command, try again this soon while the lease lives. */
const RETRY_MS = 1000;

/**
 * Keeps the daemon's copy of each forward lease's secret fresh while the link lives: shortly
 * before the secret expires, mints again (or takes a fresher cached one) and sends
 * lease.renew with it. Only leases this laptop granted are renewed; nothing the daemon
 * sends starts a run.
 */
export class ForwardRenewals {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly leases: LeaseBook,
    private readonly send: (leaseId: string, ttlMs: number, forward: ForwardSecret) => void,
    private readonly failed: (leaseId: string, err: unknown) => void,
  ) {}

  track(leaseId: string, minter: CommandToken, minted: Minted): void {
    this.after(leaseId, minter, minter.refreshAt(minted) - Date.now());
  }

  drop(leaseId: string): void {
    clearTimeout(this.timers.get(leaseId));
    this.timers.delete(leaseId);
  }

  clear(): void {
    for (const id of [...this.timers.keys()]) this.drop(id);
  }

  private after(leaseId: string, minter: CommandToken, ms: number): void {
    this.drop(leaseId);
    const timer = setTimeout(() => void this.renew(leaseId, minter), Math.max(0, ms));
    timer.unref();
    this.timers.set(leaseId, timer);
  }

  private async renew(leaseId: string, minter: CommandToken): Promise<void> {
    this.timers.delete(leaseId);
    if (!this.leases.get(leaseId)) return;
    let minted: Minted;
    try {
      minted = await minter.current();
    } catch (err) {
      this.failed(leaseId, err);
      if (this.leases.get(leaseId)) this.after(leaseId, minter, RETRY_MS);
      return;
    }
    // Revoked, expired or the link closed while the command ran: the new secret goes nowhere.
    const lease = this.leases.get(leaseId);
    if (!lease) return;
    this.send(leaseId, Math.max(1000, lease.expiresAt - Date.now()), forwardSecret(minted));
    this.track(leaseId, minter, minted);
  }
}
