import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket, RawData } from 'ws';
import {
  CloseCodes,
  DEADMAN_HEARTBEATS,
  FrameKind,
  ProtocolError,
  decodeFrame,
  decodeMessage,
  encodeMessage,
  type ErrorCode,
  type ErrorShape,
  type ForwardSecret,
  type LeaseGrant,
  type Message,
  type Offer,
  type ProcessInfo,
  type LeaseRequest,
  type RelayOpen,
  UNKNOWN_LEASE_ABORT,
} from '../protocol/index.js';
import { randomToken } from '../protocol/node/crypto.js';
import { DeadManTimer } from './deadman.js';
import type { LeaseTable } from './lease-table.js';
import { DaemonRelayStream, type StreamHost } from './relay-stream.js';
import { WriteBatch } from '../protocol/node/write-batch.js';

export type OfferedCredential = Offer['credentials'][number];

export type LeaseRequestErrorCode = 'denied' | 'approval-timeout' | 'unknown-credential' | 'no-laptop' | 'error';

export class LeaseRequestError extends Error {
  override readonly name = 'LeaseRequestError';
  constructor(
    readonly code: LeaseRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AgentLinkInfo {
  name: string;
  agentId: string;
  agentKey: string;
}

export interface AgentLinkOptions {
  heartbeatMs: number;
  maxLeaseTtlMs: number;
  leases: LeaseTable;
}

export interface LinkClosed {
  code: number;
  reason: string;
}

type LinkState = 'READY' | 'CLOSED';

interface PendingRequest {
  resolve: (grant: LeaseGrant) => void;
  reject: (err: LeaseRequestError) => void;
  timer: NodeJS.Timeout;
}

/** More protocol errors than this within a minute and the link is closed (4400). */
const ERROR_BUDGET = 20;
const ERROR_WINDOW_MS = 60_000;
/** A lease the laptop dropped this close to its expiry on our clock expired (the clocks of the two sides run apart a little). */
const EXPIRY_SKEW_MS = 5_000;

/**
 * One authenticated laptop. Owns its heartbeat, dead-man timer, pending lease requests and
 * relay streams; `close()` is the one path that tears all of it down.
 */
export class AgentLink implements StreamHost {
  readonly id = `lk_${randomToken(9)}`;
  readonly connectedAt = new Date();
  private state: LinkState = 'READY';
  private offered: OfferedCredential[] = [];
  private readonly deadman: DeadManTimer;
  private readonly heartbeat: NodeJS.Timeout;
  private lastSentAt = Date.now();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly streams = new Map<number, DaemonRelayStream>();
  private nextSid = 1;
  private errorTimes: number[] = [];
  private readonly closedListeners: ((closed: LinkClosed) => void)[] = [];
  private readonly offerListeners: (() => void)[] = [];

  constructor(
    private readonly ws: WebSocket,
    readonly info: AgentLinkInfo,
    private readonly opts: AgentLinkOptions,
  ) {
    this.deadman = new DeadManTimer(DEADMAN_HEARTBEATS * opts.heartbeatMs, () =>
      this.close(CloseCodes.heartbeatTimeout, 'no heartbeat from the laptop'),
    );
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastSentAt >= opts.heartbeatMs * 0.9) this.send({ t: 'hb' });
    }, opts.heartbeatMs);
    this.heartbeat.unref();
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('close', (code, reason) => this.close(code, reason.toString() || 'connection closed'));
    ws.on('error', () => {
      // 'close' follows every 'error'; the teardown happens there.
    });
  }

  /** Resolves when the WebSocket itself has closed (after our close frame or the peer's). */
  socketClosed(): Promise<void> {
    if (this.ws.readyState === this.ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => this.ws.once('close', () => resolve()));
  }

  get name(): string {
    return this.info.name;
  }

  get isOpen(): boolean {
    return this.state === 'READY';
  }

  get providers(): readonly OfferedCredential[] {
    return this.offered;
  }

  onClosed(listener: (closed: LinkClosed) => void): void {
    this.closedListeners.push(listener);
  }

  onOffer(listener: () => void): void {
    this.offerListeners.push(listener);
  }

  /** Asks the laptop for a lease; settles with the grant or a LeaseRequestError. */
  requestLease(provider: string, purpose: LeaseRequest['purpose'], process: ProcessInfo, timeoutMs: number): Promise<LeaseGrant> {
    return new Promise((resolve, reject) => {
      if (this.state !== 'READY') {
        reject(new LeaseRequestError('no-laptop', `${this.name} disconnected`));
        return;
      }
      const id = `rq_${randomToken(12)}`;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LeaseRequestError('approval-timeout', `no answer from ${this.name} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ t: 'lease.request', id, credential: provider, purpose, process });
    });
  }

  /** Starts relaying one proxied HTTP request to this laptop. */
  openStream(leaseId: string, method: RelayOpen['method'], path: string, headers: [string, string][], req: IncomingMessage, res: ServerResponse, shape: ErrorShape, caller?: RelayOpen['caller']): void {
    const sid = this.nextSid++;
    const stream = new DaemonRelayStream(this, sid, { leaseId, method, path, headers, ...(caller ? { caller } : {}) }, req, res, shape);
    this.streams.set(sid, stream);
    stream.start();
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Requests in flight per lease, for `tether status`. */
  streamsByLease(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.streams.values()) out.set(s.leaseId, (out.get(s.leaseId) ?? 0) + 1);
    return out;
  }

  send(message: Message): void {
    if (this.state !== 'READY' || this.ws.readyState !== this.ws.OPEN) return;
    this.lastSentAt = Date.now();
    this.writes.send(encodeMessage(message));
  }

  sendFrame(frame: Uint8Array): void {
    if (this.state !== 'READY' || this.ws.readyState !== this.ws.OPEN) return;
    this.lastSentAt = Date.now();
    this.writes.send(frame);
  }

  private writeBatch: WriteBatch | undefined;

  /** Relay frames of one event-loop turn leave in one write. */
  private get writes(): WriteBatch {
    return (this.writeBatch ??= new WriteBatch(this.ws));
  }

  streamDone(sid: number): void {
    this.streams.delete(sid);
  }

  /** Answers a protocol error with an error frame; too many of them close the link. */
  protocolError(code: ErrorCode, message: string, ref?: string): void {
    this.send({ t: 'error', code, message: message.slice(0, 500), ...(ref ? { ref: ref.slice(0, 64) } : {}) });
    const now = Date.now();
    this.errorTimes = this.errorTimes.filter((t) => now - t < ERROR_WINDOW_MS);
    this.errorTimes.push(now);
    if (this.errorTimes.length > ERROR_BUDGET) this.close(CloseCodes.protocolError, 'too many protocol errors');
  }

  /** Daemon shutdown: report the leases as ending, say goodbye, close normally. */
  stop(): void {
    if (this.state !== 'READY') return;
    this.opts.leases.endForLink(this.id, 'daemon-stopping');
    this.send({ t: 'bye', reason: 'the tether daemon is stopping' });
    this.close(CloseCodes.normal, 'daemon stopping');
  }

  /** The one teardown path: close the socket, clear timers, end leases, fail requests and streams, tell listeners once. */
  close(code: number, reason: string): void {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    clearInterval(this.heartbeat);
    this.deadman.stop();
    this.opts.leases.endForLink(this.id, 'disconnected');
    for (const [id, request] of this.pending) {
      clearTimeout(request.timer);
      request.reject(new LeaseRequestError('no-laptop', `${this.name} disconnected before answering`));
      this.pending.delete(id);
    }
    for (const stream of [...this.streams.values()]) stream.abort('laptop disconnected', false);
    this.streams.clear();
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(code, reason.slice(0, 120));
      // A silent peer never answers the close frame; don't hold its socket for ws's 30 s.
      setTimeout(() => this.ws.terminate(), 1000).unref();
    }
    for (const listener of this.closedListeners) listener({ code, reason });
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.state !== 'READY') return;
    this.deadman.touch();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    try {
      if (isBinary) this.receiveFrame(bytes);
      else this.receiveMessage(decodeMessage(bytes.toString('utf8')));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      if (err.closeCode === CloseCodes.versionMismatch) {
        this.send({ t: 'error', code: err.code, message: err.message.slice(0, 500) });
        this.close(err.closeCode, 'protocol version mismatch');
        return;
      }
      this.protocolError(err.code, err.message);
    }
  }

  private receiveFrame(bytes: Buffer): void {
    const frame = decodeFrame(bytes);
    const stream = this.streams.get(frame.sid);
    if (!stream) {
      // A stream that ended is a normal race; one that never existed is the peer's bug.
      if (frame.sid >= this.nextSid) this.protocolError('unknown-stream', `no relay stream ${frame.sid}`, String(frame.sid));
      return;
    }
    if (frame.kind === FrameKind.data) stream.onData(frame.payload);
    else if (frame.kind === FrameKind.end) stream.onEnd();
    else stream.onCredit(frame.bytes);
  }

  private receiveMessage(message: Message): void {
    switch (message.t) {
      case 'hb':
        this.send({ t: 'hb' });
        return;
      case 'bye':
        this.close(CloseCodes.normal, 'laptop said goodbye');
        return;
      case 'offer':
        this.offered = message.credentials;
        for (const listener of this.offerListeners) listener();
        return;
      case 'lease.grant':
      case 'lease.deny':
        this.settleRequest(message);
        return;
      case 'lease.renew':
        this.renew(message.leaseId, message.ttlMs, message.forward);
        return;
      case 'lease.revoke':
        this.opts.leases.endForLink(this.id, 'revoked', message.leaseIds);
        return;
      case 'relay.head':
        this.withStream(message.sid, (s) => s.onHead(message));
        return;
      case 'relay.abort':
        this.withStream(message.sid, (s) => {
          // The laptop let the lease go first (its TTL clock ran ahead, or a revoke crossed
          // this request): it ends here too, so this request and every later one get a 401.
          if (message.reason === UNKNOWN_LEASE_ABORT) this.endLeaseTheLaptopDropped(s.leaseId);
          s.onAbort(message.reason);
        });
        return;
      case 'error':
        return; // the laptop's complaint about something we sent; nothing to answer
      default:
        this.protocolError('unexpected-message', `${message.t} is not expected from a laptop after the handshake`);
    }
  }

  private settleRequest(message: Extract<Message, { t: 'lease.grant' | 'lease.deny' }>): void {
    const request = this.pending.get(message.id);
    if (!request) {
      // We stopped waiting (timeout); keep the laptop's view true by ending what it granted.
      if (message.t === 'lease.grant') this.send({ t: 'lease.ended', leaseId: message.leaseId, reason: 'revoked' });
      return;
    }
    this.pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.t === 'lease.grant') {
      if (this.opts.leases.hasLeaseId(message.leaseId)) {
        request.reject(new LeaseRequestError('error', `${this.name} reused lease id ${message.leaseId}`));
        this.protocolError('bad-message', `lease id ${message.leaseId} is already in use`, message.id);
        return;
      }
      request.resolve(message);
      return;
    }
    const code: LeaseRequestErrorCode =
      message.reason === 'timeout' ? 'approval-timeout' : message.reason === 'error' ? 'error' : message.reason;
    request.reject(new LeaseRequestError(code, message.message));
  }

  private renew(leaseId: string, ttlMs: number, forward?: ForwardSecret): void {
    const lease = this.opts.leases.find(this.id, leaseId);
    if (!lease) {
      this.protocolError('unknown-lease', `no live lease ${leaseId} on this link`, leaseId);
      return;
    }
    if (lease.scope === 'once') {
      this.protocolError('unexpected-message', `lease ${leaseId} was granted once and is not renewed`, leaseId);
      return;
    }
    if (forward) {
      if (!lease.forward) {
        this.protocolError('bad-message', `lease ${leaseId} is not a forward lease`, leaseId);
        return;
      }
      lease.forward.update(forward);
    }
    this.opts.leases.renew(this.id, leaseId, Math.min(ttlMs, this.opts.maxLeaseTtlMs));
  }

  leaseEndedWhy(leaseId: string): string | undefined {
    if (this.opts.leases.find(this.id, leaseId)) return undefined;
    return this.opts.leases.endedWhy(this.id, leaseId) ?? 'lease ended';
  }

  private endLeaseTheLaptopDropped(leaseId: string): void {
    const lease = this.opts.leases.find(this.id, leaseId);
    if (!lease) return;
    this.opts.leases.endForLink(this.id, lease.expiresAt - Date.now() < EXPIRY_SKEW_MS ? 'expired' : 'revoked', [leaseId]);
  }

  private withStream(sid: number, fn: (stream: DaemonRelayStream) => void): void {
    const stream = this.streams.get(sid);
    if (stream) fn(stream);
    else if (sid >= this.nextSid) this.protocolError('unknown-stream', `no relay stream ${sid}`, String(sid));
  }
}
