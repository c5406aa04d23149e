import type { RawData, WebSocket } from 'ws';
import { CloseCodes, ProtocolError, decodeMessage, encodeMessage, type ErrorCode } from '../protocol/index.js';
import { DaemonHandshake, type AcceptedAgent, type HandshakeContext } from './handshake.js';
import type { PenaltyBox } from './penalty.js';

/**
 * AWAIT_AUTH: hello sent, waiting for auth or pair under a deadline.
 * CHECKING: an answer came; it waits out the source's penalty delay, then is checked.
 * REFUSING: the answer failed (or too many are under way from this source).
 * READY: welcome sent, the socket belongs to an AgentLink now.
 * CLOSED: refused, timed out, or the peer left.
 */
type SessionState = 'AWAIT_AUTH' | 'CHECKING' | 'REFUSING' | 'READY' | 'CLOSED';

export interface HandshakeSessionOptions {
  ctx: HandshakeContext;
  penalty: PenaltyBox;
  source: string;
  timeoutMs: number;
  /** The session holds the connection `ms` before checking an answer (the listener's deadline moves). */
  holdFor?: (ms: number) => void;
  /** The answer failed: the connection leaves the listener's budget, so a ban it causes does not cut off its own refusal frame. */
  onFailed?: () => void;
  onReady: (ws: WebSocket, agent: AcceptedAgent) => void;
  onRefused?: (code: ErrorCode) => void;
}

export class HandshakeSession {
  private state: SessionState = 'AWAIT_AUTH';
  private timer: NodeJS.Timeout | undefined;
  private readonly handshake: DaemonHandshake;
  private readonly onMessage = (data: RawData, isBinary: boolean) => this.receive(data, isBinary);

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: HandshakeSessionOptions,
  ) {
    this.handshake = new DaemonHandshake(opts.ctx);
  }

  start(): void {
    this.ws.on('error', () => {
      // ws reports oversize frames and socket errors here, then closes (1009 etc.).
    });
    this.ws.on('close', () => {
      clearTimeout(this.timer);
      if (this.state !== 'READY') this.state = 'CLOSED';
    });
    if (this.opts.penalty.isBanned(this.opts.source)) {
      this.state = 'REFUSING';
      this.refuseNow('rate-limited', 'too many failed handshakes from this address: try again in 10 minutes', CloseCodes.rateLimited);
      return;
    }
    this.ws.on('message', this.onMessage);
    this.ws.send(encodeMessage(this.handshake.hello()));
    this.timer = setTimeout(() => {
      // Only the peer's time counts: once its answer came, the penalty wait is ours.
      if (this.state !== 'AWAIT_AUTH') return;
      this.state = 'REFUSING';
      this.refuseNow('handshake-timeout', `no auth or pair within ${this.opts.timeoutMs} ms`, CloseCodes.handshakeTimeout);
    }, this.opts.timeoutMs);
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.state !== 'AWAIT_AUTH') return;
    const { penalty, source } = this.opts;
    if (!penalty.begin(source)) {
      penalty.failure(source);
      this.state = 'REFUSING';
      this.refuseNow('rate-limited', 'too many handshakes under way from this address: try again shortly', CloseCodes.rateLimited);
      return;
    }
    this.state = 'CHECKING';
    const wait = penalty.delayFor(source);
    const check = () => {
      penalty.end(source);
      if (this.state === 'CHECKING') this.check(data, isBinary);
    };
    if (wait === 0) return check();
    this.opts.holdFor?.(wait);
    setTimeout(check, wait).unref();
  }

  private check(data: RawData, isBinary: boolean): void {
    try {
      if (isBinary) throw new ProtocolError('unexpected-message', 'binary frame before the handshake finished');
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
      const message = decodeMessage(text);
      if (message.t !== 'auth' && message.t !== 'pair') {
        throw new ProtocolError('unexpected-message', `expected auth or pair, got ${message.t}`);
      }
      const { welcome, agent } = this.handshake.answer(message);
      clearTimeout(this.timer);
      this.state = 'READY';
      this.ws.off('message', this.onMessage);
      this.opts.penalty.success(this.opts.source);
      this.ws.send(encodeMessage(welcome));
      this.opts.onReady(this.ws, agent);
    } catch (err) {
      const error = err instanceof ProtocolError ? err : new ProtocolError('internal', 'the daemon failed to check the handshake');
      this.refuseFailed(error);
    }
  }

  /** A failed answer counts against its source (the delay was served before the check). */
  private refuseFailed(error: ProtocolError): void {
    clearTimeout(this.timer);
    this.state = 'REFUSING';
    this.opts.onFailed?.();
    this.opts.penalty.failure(this.opts.source);
    this.refuseNow(error.code, error.message, error.closeCode);
  }

  private refuseNow(code: ErrorCode, message: string, closeCode: number): void {
    if (this.state !== 'REFUSING') return;
    this.state = 'CLOSED';
    this.opts.onRefused?.(code);
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeMessage({ t: 'error', code, message: message.slice(0, 500) }));
    this.ws.close(closeCode, code);
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }
}
