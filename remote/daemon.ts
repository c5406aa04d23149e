import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { WebSocket } from 'ws';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_LEASE_TTL_MS,
  HANDSHAKE_TIMEOUT_MS,
  ServerId,
  type ErrorCode,
} from '../protocol/index.js';
import { AgentLink, type LinkClosed } from './agent-link.js';
import { ControlApi } from './control-api.js';
import type { DaemonView } from './daemon-view.js';
import type { AcceptedAgent, HandshakeContext } from './handshake.js';
import { AuthorizedAgents, defaultServerId, loadOrCreateIdentity } from './identity.js';
import { LeaseTable, type Lease, type LeaseEndReason } from './lease-table.js';
import { LinkEndpoint } from './link-endpoint.js';
import { PairCodes } from './pair-codes.js';
import { remotePaths } from './paths.js';
import { ensurePrivateDir, writeFileAtomic } from './private-files.js';
import { ListenerBudget, PRE_AUTH_LIMITS, closeUnauthenticatedAfterAnswer, type BudgetLimits } from './listener-budget.js';
import { PenaltyBox, type PenaltyOptions } from './penalty.js';
import { createLoopbackServer } from './loopback-server.js';
import { DAEMON_CONTROL_VERSION } from '../protocol/daemon-control.js';
import { ExecHandles } from './exec-handles.js';
import { Retirement } from './retirement.js';
import { loadOrCreateTlsIdentity } from './tls-identity.js';
import { TETHER_VERSION } from './version.js';
import { DEFAULT_PROVIDER_HEAD_TIMEOUT_MS } from '../protocol/node/provider-call.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

export interface DaemonOptions {
  home: string;
  socketPath?: string;
  proxyPort?: number;
  heartbeatMs?: number;
  maxLeaseTtlMs?: number;
  requestTimeoutMs?: number;
  /** Forward mode: no progress for this long before the provider's response headers → 504. */
  upstreamTimeoutMs?: number;
  serverId?: string;
  /** For tests: shorter deadlines and penalties. */
  handshakeTimeoutMs?: number;
  pairCodeTtlMs?: number;
  penalty?: PenaltyOptions;
  /** Each listener's pre-authentication budget (remote/listener-budget.ts); tests shrink it. */
  preAuth?: Partial<BudgetLimits>;
  /** `serve --listen HOST:PORT`: also accept laptops over wss:// (self-signed, pinned at pairing). */
  listen?: { host: string; port: number };
  /** sha256 of the bundle this daemon runs from: `attach` replaces a daemon of another bundle. */
  bundle?: string;
}

/** What the daemon reports, for tests and the CLI's log lines. */
export interface DaemonEvents {
  link: [AgentLink];
  'link-closed': [AgentLink, LinkClosed];
  refused: [ErrorCode];
  /** A rate-limited line about connections refused or cut before they authenticated. */
  guard: [string];
  'lease-ended': [Lease, LeaseEndReason];
  /** Asked to make way (remote/retirement.ts) and nothing depends on it any more: `serve` stops. */
  retire: [string];
}

export interface DaemonState {
  pid: number;
  version: string;
  /** The newest control API version it speaks (protocol/daemon-control.ts); absent: v1. */
  controlVersion?: number;
  serverId: string;
  socket: string;
  proxyUrl: string;
  startedAt: string;
  /** sha256 of the bundle it runs from, and its heartbeat: what `attach` compares with what it wants. */
  bundle?: string;
  heartbeatMs?: number;
  /** With --listen: the wss:// URL and the certificate's fingerprint (both public). */
  listen?: string;
  tlsFingerprint?: string;
}

export interface Daemon {
  readonly serverId: string;
  readonly fingerprint: string;
  readonly socketPath: string;
  readonly proxyUrl: string;
  readonly listenUrl: string | undefined;
  readonly events: EventEmitter<DaemonEvents>;
  readonly leases: LeaseTable;
  links(): AgentLink[];
  close(): Promise<void>;
}

/** How long a connection may take to authenticate: 5 s each unless a test shortens them. */
export function preAuthDeadlines(opts: Pick<DaemonOptions, 'handshakeTimeoutMs' | 'preAuth'>): { handshakeTimeoutMs: number; limits: BudgetLimits } {
  return { handshakeTimeoutMs: opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS, limits: { ...PRE_AUTH_LIMITS, ...opts.preAuth } };
}

export async function createDaemon(opts: DaemonOptions): Promise<Daemon> {
  const paths = remotePaths(opts.home);
  ensurePrivateDir(paths.runDir);
  ensurePrivateDir(paths.daemonDir);
  const socketPath = path.resolve(opts.socketPath ?? paths.socket);
  const serverId = opts.serverId ?? defaultServerId();
  if (!ServerId.safeParse(serverId).success) throw new Error(`server id "${serverId.slice(0, 40)}" may use only letters, digits and ._@:-`);
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const maxLeaseTtlMs = opts.maxLeaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const identity = loadOrCreateIdentity(paths.identity);
  const events = new EventEmitter<DaemonEvents>();
  const links = new Map<string, AgentLink>();
  const leases = new LeaseTable();
  const pairCodes = new PairCodes({ ttlMs: opts.pairCodeTtlMs });

  leases.onEnded = (lease, reason) => {
    if (reason !== 'disconnected') links.get(lease.linkId)?.send({ t: 'lease.ended', leaseId: lease.leaseId, reason });
    events.emit('lease-ended', lease, reason);
  };

  const ctx: HandshakeContext = {
    serverId,
    identity,
    authorized: new AuthorizedAgents(paths.authorizedAgents),
    pairCodes,
    heartbeatMs,
    maxLeaseTtlMs,
  };

  const onLink = (ws: WebSocket, agent: AcceptedAgent) => {
    // The same laptop connecting again means its old link is dead, whatever the timer says.
    for (const old of links.values()) if (old.info.agentKey === agent.agentKey) old.close(1000, 'replaced by a new connection');
    const link = new AgentLink(ws, { name: agent.name, agentId: agent.agentId, agentKey: agent.agentKey }, { heartbeatMs, maxLeaseTtlMs, leases });
    links.set(link.id, link);
    link.onClosed((closed) => {
      links.delete(link.id);
      events.emit('link-closed', link, closed);
      retirement.check();
    });
    events.emit('link', link);
  };

  const { handshakeTimeoutMs, limits } = preAuthDeadlines(opts);
  const report = (line: string) => events.emit('guard', line);
  const tls = opts.listen ? { ...opts.listen, identity: loadOrCreateTlsIdentity(paths.daemonDir) } : undefined;
  const endpoint = new LinkEndpoint({
    ...(tls ? { tls } : {}),
    socketPath,
    ctx,
    penalty: new PenaltyBox(opts.penalty),
    handshakeTimeoutMs,
    onLink,
    onRefused: (code) => events.emit('refused', code),
    limits,
    report,
  });

  let proxyUrl = '';
  const handles = new ExecHandles({ leases, maxLeaseTtlMs, requestTimeoutMs, links: () => [...links.values()], findLink: (id) => links.get(id) });
  const retirement = new Retirement({ links: () => [...links.values()], handles, retire: (why) => events.emit('retire', why) });
  const view: DaemonView = {
    serverId,
    fingerprint: identity.fingerprint,
    socketPath,
    get proxyUrl() {
      return proxyUrl;
    },
    get listenUrl() {
      return endpoint.url;
    },
    tlsFingerprint: tls?.identity.fingerprint,
    uid: process.getuid?.() ?? 0,
    maxLeaseTtlMs,
    requestTimeoutMs,
    upstreamTimeoutMs: opts.upstreamTimeoutMs ?? DEFAULT_PROVIDER_HEAD_TIMEOUT_MS,
    leases,
    handles,
    retirement,
    heartbeatMs,
    ...(opts.bundle ? { bundle: opts.bundle } : {}),
    pairCodes,
    links: () => [...links.values()],
    findLink: (id) => links.get(id),
  };
  const proxy = createLoopbackServer(view, new ControlApi(view));
  // Loopback: every local user looks the same, so only the total cap applies.
  new ListenerBudget('proxy port', limits, report).watch(proxy);
  closeUnauthenticatedAfterAnswer(proxy, limits);
  await listenLoopback(proxy, opts.proxyPort ?? 0);
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    await endpoint.listen();
  } catch (err) {
    await closeHttp(proxy);
    throw err;
  }

  const listenUrl = endpoint.url;
  const state: DaemonState = {
    pid: process.pid,
    version: TETHER_VERSION,
    controlVersion: DAEMON_CONTROL_VERSION,
    serverId,
    socket: socketPath,
    proxyUrl,
    startedAt: new Date().toISOString(),
    ...(opts.bundle ? { bundle: opts.bundle } : {}),
    heartbeatMs,
    ...(listenUrl && tls ? { listen: listenUrl, tlsFingerprint: tls.identity.fingerprint } : {}),
  };
  writeFileAtomic(paths.daemonJson, JSON.stringify(state, null, 2) + '\n', 0o600);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const open = [...links.values()];
      const socketsClosed = open.map((l) => l.socketClosed());
      for (const link of open) link.stop();
      leases.endAll('daemon-stopping');
      await Promise.race([Promise.all(socketsClosed), delay(1000)]);
      await endpoint.close();
      await closeHttp(proxy);
      removeIfOurs(paths.daemonJson);
    })());

  return {
    serverId,
    fingerprint: identity.fingerprint,
    socketPath,
    proxyUrl,
    listenUrl,
    events,
    leases,
    links: () => [...links.values()],
    close,
  };
}

function listenLoopback(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function closeHttp(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Another daemon may have replaced the file since; only remove the one we wrote. */
function removeIfOurs(file: string): void {
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<DaemonState>;
    if (state.pid === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // already gone or unreadable: nothing of ours to remove
  }
}
