import type { AgentLink } from './agent-link.js';
import type { ExecHandles } from './exec-handles.js';
import type { RetireAnswer } from '../protocol/daemon-control-schemas.js';

/** Who still depends on this daemon, besides the laptop asking it to make way (the retire call's answer). */
export type InUse = RetireAnswer['inUse'];
export type { RetireAnswer };

/**
 * A daemon asked to make way for another bundle or other settings (`tether attach`). It goes
 * at once when nothing else depends on it; otherwise it stays, and goes by itself the moment
 * no laptop is linked and no `tether exec` holds a handle. Never mid-use for someone else.
 */
export class Retirement {
  private pending = false;
  private done = false;

  constructor(
    private readonly deps: {
      links(): AgentLink[];
      handles: ExecHandles;
      /** Called once: stop the daemon gracefully (leases end with a reason, laptops get bye). */
      retire(why: string): void;
    },
  ) {}

  get isPending(): boolean {
    return this.pending;
  }

  /** `agentKey`: the laptop asking; its own old link does not count as someone else's use. */
  request(agentKey: string): RetireAnswer {
    const inUse = this.inUse(agentKey);
    this.pending = true;
    return { retiring: inUse.laptops.length === 0 && inUse.execs === 0, inUse };
  }

  /** After a link closes or a handle is released: a pending retirement goes once nothing is left. */
  check(): void {
    if (!this.pending || this.done) return;
    const open = this.deps.links().filter((l) => l.isOpen).length;
    if (open === 0 && this.deps.handles.list().length === 0) this.fire('no laptop linked and no `tether exec` running any more');
  }

  /** The answer to `request` has been sent: a retirement that may go now goes. */
  fire(why: string): void {
    if (!this.pending || this.done) return;
    this.done = true;
    this.deps.retire(why);
  }

  private inUse(agentKey: string): InUse {
    const laptops = this.deps
      .links()
      .filter((l) => l.isOpen && l.info.agentKey !== agentKey)
      .map((l) => l.name);
    return { laptops: [...new Set(laptops)], execs: this.deps.handles.list().length };
  }
}
