import type { AgentLink } from './agent-link.js';
import type { LeaseTable } from './lease-table.js';
import type { PairCodes } from './pair-codes.js';

/** What the proxy and the control API may see of the daemon: read access plus the tables they act on. */
export interface DaemonView {
  readonly serverId: string;
  readonly fingerprint: string;
  readonly socketPath: string;
  readonly proxyUrl: string;
  readonly uid: number;
  readonly maxLeaseTtlMs: number;
  readonly requestTimeoutMs: number;
  readonly leases: LeaseTable;
  readonly pairCodes: PairCodes;
  links(): AgentLink[];
  findLink(linkId: string): AgentLink | undefined;
}
