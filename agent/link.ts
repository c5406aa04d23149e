import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import {
  CloseCodes,
  DEADMAN_HEARTBEATS,
  ProtocolError,
  decodeFrame,
  decodeMessage,
  encodeMessage,
  type BinaryFrame,
  type ErrorCode,
  type Message,
  type Offer,
  type Welcome,
} from '../protocol/index.js';
import type { PinnedServer } from './config.js';
import { AgentError, type AgentErrorCode } from './errors.js';
import type { AgentIdentity } from './identity.js';
import { AgentHandshake } from './link-handshake.js';
import { WriteBatch } from '../protocol/node/write-batch.js';
import type { Transport } from './transports/index.js';

export type LinkState = 'CONNECTING' | 'HANDSHAKING' | 'READY' | 'CLOSED';

export interface CloseReason {
  code: AgentErrorCode | 'closed' | 'bye';
  message: string;
}

export interface LinkOptions {
  transport: Transport;
  identity: AgentIdentity;
  pinned: PinnedServer | undefined;
  pairCode?: string;
  /** Called once a pairing succeeded, before anything else is sent: store the pin. */
  onPaired?: (server: PinnedServer) => void;
  /** Our own limit for hello + welcome; the daemon has its own 5 s. */
  handshakeTimeoutMs?: number;
}

export interface LinkEvents {
  state: [LinkState, CloseReason | undefined];
  message: [Message];
  frame: [BinaryFrame];
}

/**
 * One connection to one daemon: handshake, heartbeats, dead-link watchdog, and validated
 * messages out to whoever handles leases and relay streams. It never throws on bad input
 * from the daemon: bad frames get an error frame, fatal ones close the link.
 */
export class Link extends EventEmitter<LinkEvents> {
  state: LinkState = 'CONNECTING';
  closeReason: CloseReason | undefined;
  server: PinnedServer | undefined;
  welcome: Welcome | undefined;
  readonly serverName: string;
  private ws: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly opts: LinkOptions) {
    super();
    this.serverName = opts.transport.serverName;
  }

  /** Resolves once READY; rejects with an AgentError (and the link CLOSED) otherwise. */
  async open(): Promise<void> {
    let ws: WebSocket;
    try {
      ws = await this.opts.transport.connect();
    } catch (err) {
      this.finish(asReason(err));
      throw err;
    }
    this.ws = ws;
    // A transport that authenticated the server itself (SSH host key) hands us the daemon key to pin.
    const learned = this.opts.transport.pin;
    const pinned = learned ?? this.opts.pinned;
    if (learned && learned.serverKey !== this.opts.pinned?.serverKey) this.opts.onPaired?.(learned);
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => {}); // 'close' follows and carries what we need
    this.setState('HANDSHAKING');
    const hs = new AgentHandshake({
      serverName: this.serverName,
      pinned,
      identity: this.opts.identity,
      ...(this.opts.pairCode !== undefined ? { pairCode: this.opts.pairCode } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer);
        ws.terminate();
        this.finish(asReason(err));
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new AgentError('handshake-timeout', `${this.serverName} did not complete the handshake in time`)),
        this.opts.handshakeTimeoutMs ?? 10_000,
      );
      // One listener for the whole life of the socket: frames that arrive right behind the
      // welcome (in the same read) must reach the READY handler, not fall between two.
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (this.state === 'READY') return this.receive(data, isBinary);
        if (this.state !== 'HANDSHAKING') return;
        try {
          if (this.handshakeStep(hs, ws, data, isBinary)) {
            clearTimeout(timer);
            resolve();
          }
        } catch (err) {
          if (err instanceof ProtocolError) ws.send(encodeMessage({ t: 'error', code: err.code, message: err.message }));
          fail(err instanceof ProtocolError ? new AgentError('protocol', `${this.serverName}: ${err.message}`) : (err as Error));
        }
      });
      ws.on('close', (code, reason) => {
        if (this.state === 'HANDSHAKING') fail(new AgentError('refused', `${this.serverName} closed the connection during the handshake (${code})`));
        else this.finish({ code: 'closed', message: `daemon closed the link (${code}${reason.length ? ` ${reason.toString()}` : ''})` });
      });
      ws.resume();
    });
  }

  /** One handshake frame; true once the link is READY. Throws on refusal. */
  private handshakeStep(hs: AgentHandshake, ws: WebSocket, data: Buffer, isBinary: boolean): boolean {
    if (isBinary) throw new AgentError('protocol', `${this.serverName} sent binary data during the handshake`);
    const msg = decodeMessage(data.toString('utf8'));
    if (msg.t === 'hello') {
      ws.send(encodeMessage(hs.onHello(msg)));
      return false;
    }
    if (msg.t === 'error') throw new AgentError(refusalCode(msg.code), `${this.serverName} refused this laptop: ${msg.message}`);
    if (msg.t !== 'welcome') throw new AgentError('protocol', `${this.serverName} sent ${msg.t} during the handshake`);
    const result = hs.onWelcome(msg);
    this.server = result.server;
    this.welcome = result.welcome;
    if (result.paired) this.opts.onPaired?.(result.server);
    this.startHeartbeat(result.welcome.heartbeatMs);
    this.setState('READY');
    return true;
  }

  send(message: Message): void {
    if (this.ws?.readyState === 1) this.batch(this.ws).send(encodeMessage(message));
  }

  sendFrame(frame: Uint8Array): void {
    if (this.ws?.readyState === 1) this.batch(this.ws).send(frame);
  }

  private writeBatch: WriteBatch | undefined;

  /** One WriteBatch per socket: relay frames of one event-loop turn leave in one write. */
  private batch(ws: WebSocket): WriteBatch {
    if (this.writeBatch?.ws !== ws) this.writeBatch = new WriteBatch(ws);
    return this.writeBatch;
  }

  offer(credentials: Offer['credentials']): void {
    if (this.state === 'READY') this.send({ t: 'offer', credentials });
  }

  /** Clean goodbye: `bye` (the daemon revokes our leases at once), then close 1000. */
  async close(reason = 'agent closing'): Promise<void> {
    const ws = this.ws;
    if (!ws || this.state === 'CLOSED') {
      this.finish({ code: 'closed', message: reason });
      return;
    }
    this.send({ t: 'bye', reason });
    ws.close(CloseCodes.normal, 'bye');
    // Out now, with anything batched before it (a sleep's lease.revoke): this turn may be the last.
    this.writeBatch?.flush();
    const force = setTimeout(() => ws.terminate(), 1000);
    this.finish({ code: 'bye', message: reason });
    await this.closed;
    clearTimeout(force);
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.watchdog?.refresh();
    try {
      if (isBinary) {
        this.emit('frame', decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
        return;
      }
      const msg = decodeMessage(data.toString('utf8'));
      if (msg.t === 'hb') return;
      if (msg.t === 'bye') {
        this.ws?.close(CloseCodes.normal, 'bye');
        this.finish({ code: 'bye', message: `${this.serverName} said goodbye: ${msg.reason}` });
        return;
      }
      this.emit('message', msg);
    } catch (err) {
      if (!(err instanceof ProtocolError)) {
        // A handler bug must not take the link down silently; tell the daemon and go on.
        this.sendError('internal', 'agent failed to handle a message');
        return;
      }
      this.sendError(err.code, err.message);
      if (err.closeCode === CloseCodes.versionMismatch) {
        this.ws?.close(err.closeCode, 'version mismatch');
        this.finish({ code: 'protocol', message: err.message });
      }
    }
  }

  private sendError(code: ErrorCode, message: string, ref?: string): void {
    this.send({ t: 'error', code, message: message.slice(0, 500), ...(ref ? { ref } : {}) });
  }

  private startHeartbeat(heartbeatMs: number): void {
    this.heartbeat = setInterval(() => this.send({ t: 'hb' }), heartbeatMs);
    this.watchdog = setTimeout(() => {
      this.ws?.terminate();
      this.finish({ code: 'heartbeat-timeout', message: `${this.serverName} went silent for ${DEADMAN_HEARTBEATS * heartbeatMs} ms` });
    }, DEADMAN_HEARTBEATS * heartbeatMs);
    this.heartbeat.unref();
    this.watchdog.unref();
  }

  private finish(reason: CloseReason): void {
    if (this.state === 'CLOSED') return;
    clearInterval(this.heartbeat);
    clearTimeout(this.watchdog);
    this.closeReason = reason;
    this.setState('CLOSED', reason);
  }

  private setState(state: LinkState, reason?: CloseReason): void {
    this.state = state;
    this.emit('state', state, reason);
  }
}

function refusalCode(code: ErrorCode): AgentErrorCode {
  return code === 'handshake-timeout' ? 'handshake-timeout' : 'refused';
}

function asReason(err: unknown): CloseReason {
  if (err instanceof AgentError) return { code: err.code, message: err.message };
  return { code: 'closed', message: err instanceof Error ? err.message : String(err) };
}
