import { LEASE_TOKEN_PREFIX, type ProcessInfo } from '../protocol/index.js';
import type { RefusalCode, RefusalFacts } from '../protocol/refusals.js';
import { LeaseRequestError, type AgentLink, type OfferedCredential } from './agent-link.js';
import { randomToken, sha256Hex } from '../protocol/node/crypto.js';
import { StatField, readProcStat } from '../protocol/node/proc-stat.js';
import { grantLease, type GrantContext } from './lease-grant.js';
import type { Lease } from './lease-table.js';

/**
 * One `tether exec`'s key for one credential: a stable token its child keeps for its whole
 * life, standing for whatever lease is current for that exec on its laptop. The laptop is
 * known by its agent key, so a reconnect (a new link) finds it again.
 */
export interface ExecHandle {
  readonly token: string;
  readonly agentKey: string;
  readonly laptop: string;
  readonly name: string;
  readonly provider: string;
  /** The `tether exec` process, as the kernel showed it when the handle was made. */
  readonly process: ProcessInfo;
  /** Its start time (/proc/PID/stat), so a reused pid is not taken for it. */
  readonly processStart: string;
  /** The lease the handle stands for now, if any: never kept past its end. */
  leaseToken: string | undefined;
  /** A lease request under way after the laptop came back; concurrent requests share it. */
  binding: Promise<Lease> | undefined;
}

export type HandleAnswer = { ok: true; lease: Lease } | { ok: false; code: RefusalCode; facts: RefusalFacts };

export interface HandleContext extends GrantContext {
  links(): AgentLink[];
  findLink(linkId: string): AgentLink | undefined;
}

/**
 * Handles by token, in memory only. A handle holds no credential: while its laptop is away
 * there is no lease behind it and requests fail at once (503 "laptop away"); on first use
 * after the laptop is back, it asks the laptop for a new lease (its policy decides).
 */
export class ExecHandles {
  private readonly byToken = new Map<string, ExecHandle>();
  /** Hashes of released handles, so a late request hears why (never the token). */
  private readonly released = new Set<string>();

  constructor(private readonly ctx: HandleContext) {}

  /**
   * A handle for a lease just granted to a `tether exec` over `link`; undefined when that
   * process cannot be seen (then the exec gets the plain lease and no handle outlives it).
   */
  create(lease: Lease, link: AgentLink, process: ProcessInfo): ExecHandle | undefined {
    const processStart = process.pid > 0 ? processStartOf(process.pid) : undefined;
    if (processStart === undefined) return undefined;
    const handle: ExecHandle = {
      token: LEASE_TOKEN_PREFIX + randomToken(32),
      agentKey: link.info.agentKey,
      laptop: link.name,
      name: lease.name,
      provider: lease.provider,
      process,
      processStart,
      leaseToken: lease.token,
      binding: undefined,
    };
    this.byToken.set(handle.token, handle);
    return handle;
  }

  get(token: string): ExecHandle | undefined {
    return this.byToken.get(token);
  }

  /** A released handle's token (its exec ended), so a late request hears why. */
  isReleased(token: string): boolean {
    return this.released.has(sha256Hex(token));
  }

  /** The exec ended: the handle and its current lease end now. */
  release(token: string): boolean {
    const handle = this.byToken.get(token);
    if (!handle) return false;
    this.byToken.delete(token);
    if (this.released.size > 10_000) this.released.clear();
    this.released.add(sha256Hex(token));
    if (handle.leaseToken) this.ctx.leases.release(handle.leaseToken);
    handle.leaseToken = undefined;
    return true;
  }

  list(): ExecHandle[] {
    return [...this.byToken.values()];
  }

  /** The live lease behind `handle`, asking the laptop for a new one when it is back; or why not. */
  async leaseFor(handle: ExecHandle): Promise<HandleAnswer> {
    const current = this.currentLease(handle);
    if (current) return { ok: true, lease: current };
    // An exec killed too hard to release its handles must not get a new lease.
    if (processStartOf(handle.process.pid) !== handle.processStart) {
      this.release(handle.token);
      return { ok: false, code: 'exec-ended', facts: {} };
    }
    const link = this.ctx.links().find((l) => l.isOpen && l.info.agentKey === handle.agentKey);
    const offered = link?.providers.find((p) => p.name === handle.name);
    if (!link || !offered) return away(handle);
    handle.binding ??= this.bind(handle, link, offered);
    try {
      return { ok: true, lease: await handle.binding };
    } catch (err) {
      if (!(err instanceof LeaseRequestError)) throw err;
      return refusal(handle, err);
    }
  }

  private currentLease(handle: ExecHandle): Lease | undefined {
    if (!handle.leaseToken) return undefined;
    const found = this.ctx.leases.lookup(handle.leaseToken);
    if (found.state === 'live' && this.ctx.findLink(found.lease.linkId)?.isOpen) return found.lease;
    handle.leaseToken = undefined;
    return undefined;
  }

  private async bind(handle: ExecHandle, link: AgentLink, offered: OfferedCredential): Promise<Lease> {
    try {
      const lease = await grantLease(this.ctx, link, offered, 'exec', handle.process);
      // The exec may have ended while the laptop was deciding.
      if (this.byToken.get(handle.token) !== handle) {
        this.ctx.leases.release(lease.token);
        throw new LeaseRequestError('no-laptop', 'the exec ended');
      }
      handle.leaseToken = lease.token;
      return lease;
    } finally {
      handle.binding = undefined;
    }
  }
}

/** Its start time, field 22 of /proc/PID/stat. */
function processStartOf(pid: number): string | undefined {
  return readProcStat(pid)?.[StatField.starttime];
}

function away(handle: ExecHandle): HandleAnswer {
  return { ok: false, code: 'laptop-away', facts: { laptop: handle.laptop } };
}

/** The laptop's refusal, for a tool that keeps its key: a withdrawn credential is a 401, a laptop that left is "away". */
function refusal(handle: ExecHandle, err: LeaseRequestError): HandleAnswer {
  const facts = { laptop: handle.laptop, name: handle.name };
  switch (err.code) {
    case 'denied':
      return { ok: false, code: 'denied', facts };
    case 'approval-timeout':
      return { ok: false, code: 'approval-timeout', facts };
    case 'unknown-credential':
      return { ok: false, code: 'credential-withdrawn', facts };
    case 'no-laptop':
      return away(handle);
    case 'error':
      return { ok: false, code: 'grant-failed', facts };
  }
}
