import type net from 'node:net';

/**
 * What a peer may hold on one of the daemon's listeners before it has proven anything: a
 * connection that has not authenticated (a laptop's handshake done; a tool's request under a
 * live lease; a control call from our uid) is closed `preAuthMs` after it was accepted,
 * whatever it is doing (TLS, headers, a body, the WebSocket upgrade, the handshake), and
 * there may be only so many of them: past the per-source cap a newcomer is refused at accept,
 * past the total the oldest is closed to make room. Without this, Node's defaults
 * let each half-open connection hold an fd for 87 s (headers) to 300 s (a body).
 */
export interface BudgetLimits {
  preAuthMs: number;
  /** Unauthenticated connections one source may hold; sources are only told apart on TCP from other hosts. */
  perSource: number;
  total: number;
}

export const PRE_AUTH_LIMITS: BudgetLimits = { preAuthMs: 5000, perSource: 64, total: 1024 };

/** How often each kind of refusal may reach the log; the ones in between are counted into the next line. */
const LOG_EVERY_MS = 10_000;

interface Pending {
  budget: ListenerBudget;
  deadline: number;
  source: string | undefined;
  timer: NodeJS.Timeout;
}

const pending = new WeakMap<net.Socket, Pending>();

/** The raw TCP socket under a TLS one (req.socket on an https server is the TLS socket). */
function rawOf(socket: net.Socket): net.Socket {
  return (socket as net.Socket & { _parent?: net.Socket | null })._parent ?? socket;
}

/** The peer proved itself: its connection leaves the budget and its deadline. */
export function markAuthenticated(socket: net.Socket): void {
  const raw = rawOf(socket);
  const entry = pending.get(socket) ?? pending.get(raw);
  entry?.budget.release(pending.has(socket) ? socket : raw);
}

/** Milliseconds this connection has left to authenticate, or undefined when it is not counted. */
export function timeLeft(socket: net.Socket): number | undefined {
  const entry = pending.get(socket) ?? pending.get(rawOf(socket));
  return entry && Math.max(0, entry.deadline - Date.now());
}

/**
 * The daemon holds this connection for `ms` (a penalty delay before its answer is checked):
 * that wait is the daemon's, not the peer's, so the deadline moves with it.
 */
export function extendDeadline(socket: net.Socket, ms: number): void {
  const raw = rawOf(socket);
  const key = pending.has(socket) ? socket : raw;
  pending.get(key)?.budget.extend(key, ms);
}

export function isAuthenticated(socket: net.Socket): boolean {
  return !pending.has(socket) && !pending.has(rawOf(socket));
}

export class ListenerBudget {
  private readonly bySource = new Map<string, number>();
  /** Unauthenticated connections, oldest first. */
  private readonly order = new Set<net.Socket>();
  private readonly log: RateLimitedLog;

  /**
   * `sourceOf` says whose a connection is for the per-source cap, or undefined where every
   * peer looks the same (a Unix socket, loopback): only the total applies there.
   */
  constructor(
    private readonly listener: string,
    private readonly limits: BudgetLimits,
    report: (line: string) => void,
    private readonly sourceOf: (socket: net.Socket) => string | undefined = () => undefined,
  ) {
    this.log = new RateLimitedLog(report);
  }

  get unauthenticated(): number {
    return this.order.size;
  }

  /** Applies the budget to every connection `server` accepts (for TLS: the TCP connection, before the handshake). */
  watch(server: net.Server): void {
    server.on('connection', (socket: net.Socket) => this.admit(socket));
  }

  private admit(socket: net.Socket): void {
    const source = this.sourceOf(socket);
    const fromSource = source === undefined ? 0 : (this.bySource.get(source) ?? 0);
    if (source !== undefined && fromSource >= this.limits.perSource) {
      this.log.note('refused-source', `refused connections at accept on the ${this.listener}: over ${this.limits.perSource} unauthenticated connections from ${source}`);
      socket.destroy();
      return;
    }
    if (this.order.size >= this.limits.total) {
      // The oldest goes, not the newcomer: a flood's connections are old and idle, while a
      // tool's or a laptop's finishes its request or handshake in milliseconds and leaves the
      // count. So a flood cannot shut everyone else out, and fds stay bounded.
      const oldest = this.order.values().next().value!;
      this.log.note('evicted', `closed the oldest unauthenticated connections on the ${this.listener}: over ${this.limits.total} in all`);
      oldest.destroy();
      this.release(oldest);
    }
    this.order.add(socket);
    if (source !== undefined) this.bySource.set(source, fromSource + 1);
    const deadline = Date.now() + this.limits.preAuthMs;
    pending.set(socket, { budget: this, deadline, source, timer: this.deadlineTimer(socket, this.limits.preAuthMs) });
    socket.once('close', () => this.release(socket));
  }

  private deadlineTimer(socket: net.Socket, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (!pending.has(socket)) return;
      this.log.note('deadline', `closed connections on the ${this.listener} that did not authenticate within ${this.limits.preAuthMs} ms`);
      socket.destroy();
    }, ms);
    timer.unref();
    return timer;
  }

  /** Moves a connection's deadline `ms` later (time the daemon itself makes it wait). */
  extend(socket: net.Socket, ms: number): void {
    const entry = pending.get(socket);
    if (!entry || entry.budget !== this) return;
    clearTimeout(entry.timer);
    entry.deadline += ms;
    entry.timer = this.deadlineTimer(socket, Math.max(0, entry.deadline - Date.now()));
  }

  /** Closes every unauthenticated connection of a source (it was just banned). */
  closeSource(source: string): number {
    let closed = 0;
    for (const socket of [...this.order]) {
      if (pending.get(socket)?.source !== source) continue;
      socket.destroy();
      this.release(socket);
      closed += 1;
    }
    if (closed) this.log.note('banned', `closed ${closed} unauthenticated connections on the ${this.listener} from ${source}, banned for failed handshakes`);
    return closed;
  }

  /** Takes a connection out of the count (authenticated, or gone). */
  release(socket: net.Socket): void {
    const entry = pending.get(socket);
    if (!entry || entry.budget !== this) return;
    pending.delete(socket);
    clearTimeout(entry.timer);
    this.order.delete(socket);
    if (entry.source === undefined) return;
    const left = (this.bySource.get(entry.source) ?? 1) - 1;
    if (left === 0) this.bySource.delete(entry.source);
    else this.bySource.set(entry.source, left);
  }
}

/** One line per kind per LOG_EVERY_MS: a flood cannot fill the daemon's log (or its disk). */
export class RateLimitedLog {
  private readonly kinds = new Map<string, { lastAt: number; missed: number; flush?: NodeJS.Timeout }>();

  constructor(
    private readonly report: (line: string) => void,
    private readonly everyMs = LOG_EVERY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `kind` groups lines (a flood from many sources is one kind); the line says the latest. */
  note(kind: string, line: string): void {
    const entry = this.kinds.get(kind) ?? { lastAt: -Infinity, missed: 0 };
    this.kinds.set(kind, entry);
    const now = this.now();
    if (now - entry.lastAt >= this.everyMs) {
      entry.lastAt = now;
      this.report(line);
      return;
    }
    entry.missed += 1;
    entry.flush ??= setTimeout(
      () => {
        entry.flush = undefined;
        entry.lastAt = this.now();
        this.report(`${line} (${entry.missed} times in ${Math.round(this.everyMs / 1000)} s)`);
        entry.missed = 0;
      },
      entry.lastAt + this.everyMs - now,
    ).unref();
  }
}

/**
 * HTTP on a budgeted listener: headers must arrive within the pre-auth deadline, and a
 * connection still unauthenticated once its request was answered (a refusal) is closed
 * rather than kept alive: its unread body is not waited for.
 */
export function closeUnauthenticatedAfterAnswer(server: net.Server & { headersTimeout: number }, limits: BudgetLimits): void {
  server.headersTimeout = limits.preAuthMs;
  server.on('request', (req: { socket: net.Socket }, res: { once(event: 'finish', fn: () => void): void }) => {
    res.once('finish', () => {
      if (!isAuthenticated(req.socket)) req.socket.destroySoon();
    });
  });
}
