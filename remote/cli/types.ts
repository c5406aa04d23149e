/** Shapes of the control API's answers, as the CLI reads them. */
export interface LeaseAnswer {
  token: string;
  leaseId: string;
  name: string;
  provider: string;
  laptop: string;
  scope: string;
  expiresAt: string;
  baseUrl: string;
  proxyUrl: string;
}

export interface StatusAnswer {
  serverId: string;
  fingerprint: string;
  pid: number;
  /** Absent from daemons older than these fields. */
  version?: string;
  bundle?: string;
  heartbeatMs?: number;
  /** Asked to make way for another bundle or heartbeat; goes once no laptop is linked. */
  retiring?: boolean;
  proxyUrl: string;
  socket: string;
  laptops: { name: string; agentId: string; connectedAt: string; providers: { name: string; provider: string; active?: number }[]; leases: number }[];
  leases: { leaseId: string; laptop: string; name: string; provider: string; scope: string; expiresAt: string; pid: number }[];
}

export interface PairCodeAnswer {
  code: string;
  fingerprint: string;
  serverId: string;
  socket: string;
  /** With `serve --listen`: the wss:// URL and its certificate's fingerprint. */
  listen?: string;
  tlsFingerprint?: string;
  expiresAt: string;
}
