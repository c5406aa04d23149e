import type { AgentLink } from './agent-link.js';
import type { ExecHandles } from './exec-handles.js';
import type { LeaseTable } from './lease-table.js';
import type { PairCodes } from './pair-codes.js';
import type { Retirement } from './retirement.js';

/** What the proxy and the control API may see of the daemon: read access plus the tables they act on. */
export interface DaemonView {
  readonly serverId: string;
  readonly fingerprint: string;
  readonly socketPath: string;
  /** With `serve --listen`: the wss:// URL and its certificate's fingerprint. */
  readonly listenUrl?: string | undefined;
  readonly tlsFingerprint?: string | undefined;
  readonly proxyUrl: string;
  readonly uid: number;
  readonly maxLeaseTtlMs: number;
  readonly requestTimeoutMs: number;
  /** Forward mode: no progress for this long before the provider's response headers → 504. */
  readonly upstreamTimeoutMs: number;
  readonly leases: LeaseTable;
  /** `tether exec`'s stable keys, re-bound to a new lease after a reconnect. */
  readonly handles: ExecHandles;
  /** `attach` asking this daemon to make way for another bundle or heartbeat. */
  readonly retirement: Retirement;
  readonly heartbeatMs: number;
  /** sha256 of the bundle the daemon runs from (set by `serve`). */
  readonly bundle?: string;
  readonly pairCodes: PairCodes;
  links(): AgentLink[];
  findLink(linkId: string): AgentLink | undefined;
}
