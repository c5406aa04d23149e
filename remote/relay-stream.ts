import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendProviderRefusal } from './http-answers.js';
import {
  ProtocolError,
  RELAY_WINDOW,
  ReceiveWindow,
  SendWindow,
  encodeCredit,
  encodeData,
  encodeEnd,
  type ErrorCode,
  type ErrorShape,
  type Message,
  type RelayHead,
  type RelayOpen,
} from '../protocol/index.js';
import { relayResponseHeaders } from './http-headers.js';

/** What a stream needs from the link it rides on. */
export interface StreamHost {
  send(message: Message): void;
  sendFrame(frame: Uint8Array): void;
  streamDone(sid: number): void;
  protocolError(code: ErrorCode, message: string, ref?: string): void;
  /** Why this lease no longer lives, or undefined while it does. */
  leaseEndedWhy(leaseId: string): string | undefined;
}

type StreamState = 'AWAIT_HEAD' | 'STREAMING' | 'DONE';

/** Response credit is returned in batches this big (see grantCredit). */
export const CREDIT_BATCH = RELAY_WINDOW / 4;

/**
 * The daemon's side of one proxied HTTP request. Both directions are credit-bound
 * (protocol/flow-control.ts): the client's request body is read only as fast as the laptop
 * grants credit, and the laptop gets credit back only as fast as the client's socket accepts
 * the response.
 */
export class DaemonRelayStream {
  private state: StreamState = 'AWAIT_HEAD';
  /** The request body to the laptop. */
  private readonly request = new SendWindow();
  /** The response from the laptop. */
  private readonly response: ReceiveWindow;
  /** Response bytes written to the client but still queued in Node (credited on 'drain'). */
  private owedCredit = 0;
  /** The part of one request chunk that did not fit the credit; the request is paused meanwhile. */
  private pending: Buffer | undefined;
  private requestEnded = false;
  private endSent = false;

  constructor(
    private readonly host: StreamHost,
    readonly sid: number,
    private readonly open: Omit<RelayOpen, 't' | 'sid'>,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly errorShape: ErrorShape,
  ) {
    this.response = new ReceiveWindow(sid, { batch: CREDIT_BATCH });
  }

  get leaseId(): string {
    return this.open.leaseId;
  }

  start(): void {
    this.host.send({ t: 'relay.open', sid: this.sid, ...this.open });
    this.req.on('data', (chunk: Buffer) => this.pushBody(chunk));
    this.req.on('end', () => {
      this.requestEnded = true;
      this.maybeSendEnd();
    });
    this.res.on('drain', () => this.returnOwedCredit());
    this.res.on('close', () => {
      if (this.state === 'DONE') return;
      // The client went away first: tell the laptop so it cancels the upstream request.
      this.host.send({ t: 'relay.abort', sid: this.sid, reason: 'the client closed the connection' });
      this.finish();
    });
  }

  onCredit(bytes: number): void {
    if (this.state === 'DONE') return;
    this.request.grant(bytes);
    const pending = this.pending;
    this.pending = undefined;
    if (pending) this.pushBody(pending);
    if (!this.pending && !this.requestEnded) this.req.resume();
    this.maybeSendEnd();
  }

  onHead(head: RelayHead): void {
    if (this.state !== 'AWAIT_HEAD') {
      this.host.protocolError('unexpected-message', `relay.head for stream ${this.sid} that already has one`, String(this.sid));
      return;
    }
    // An informational head (101 Switching Protocols above all) would hand the client's
    // connection to whatever the laptop speaks next: no provider call answers one.
    if (head.status > 100 && head.status < 200) {
      this.host.protocolError('bad-message', `relay.head for stream ${this.sid} with informational status ${head.status}`, String(this.sid));
      this.abort(`the laptop answered with status ${head.status}, which is not relayed`, true);
      return;
    }
    this.state = 'STREAMING';
    try {
      this.res.writeHead(head.status, relayResponseHeaders(head.headers));
    } catch {
      this.failClient('the laptop sent response headers that cannot be forwarded');
    }
  }

  onData(payload: Uint8Array): void {
    if (this.state !== 'STREAMING') {
      if (this.state === 'AWAIT_HEAD') {
        this.host.protocolError('unexpected-message', `DATA before relay.head on stream ${this.sid}`, String(this.sid));
        this.abort('DATA before relay.head', true);
      }
      return;
    }
    try {
      this.response.data(payload.byteLength);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.host.protocolError(err.code, err.message, String(this.sid));
      this.abort(`${err.code} violation`, true);
      return;
    }
    if (payload.byteLength === 0) return;
    if (this.res.write(payload)) this.grantCredit(payload.byteLength);
    else this.owedCredit += payload.byteLength;
  }

  onEnd(): void {
    this.response.end();
    if (this.state === 'STREAMING') {
      this.finish();
      this.res.end();
    } else if (this.state === 'AWAIT_HEAD') {
      this.failClient('the laptop ended the stream without a response');
    }
  }

  /** The laptop gave up (upstream failed, lease revoked). */
  onAbort(reason: string): void {
    this.abort(reason, false);
  }

  /** Ends the stream from our side; `notifyLaptop` when the laptop should stop working on it. */
  abort(reason: string, notifyLaptop: boolean): void {
    if (this.state === 'DONE') return;
    if (notifyLaptop) this.host.send({ t: 'relay.abort', sid: this.sid, reason: reason.slice(0, 300) });
    if (this.state === 'AWAIT_HEAD') this.failClient(reason);
    else {
      this.finish();
      this.res.destroy();
    }
  }

  private pushBody(chunk: Buffer): void {
    let rest = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (rest.byteLength > 0 && this.state !== 'DONE') {
      const n = this.request.take(rest.byteLength);
      if (n === 0) {
        this.pending = rest;
        this.req.pause();
        return;
      }
      this.host.sendFrame(encodeData(this.sid, rest.subarray(0, n)));
      rest = rest.subarray(n);
    }
  }

  private maybeSendEnd(): void {
    if (this.requestEnded && !this.pending && !this.endSent && this.state !== 'DONE') {
      this.endSent = true;
      this.host.sendFrame(encodeEnd(this.sid));
    }
  }

  private returnOwedCredit(): void {
    if (this.owedCredit === 0 || this.state === 'DONE') return;
    const bytes = this.owedCredit;
    this.owedCredit = 0;
    this.grantCredit(bytes);
  }

  /**
   * Credit goes back in batches of at least CREDIT_BATCH bytes, the way HTTP/2 peers send
   * WINDOW_UPDATE: a stream of small events then costs the laptop no wake-up per event
   * just to learn its window grew, and it always keeps at least 3/4 of the window. The
   * batch leaves once the frames of the current read are handled (a microtask), so a read
   * that also held the END sends none: a finished stream takes no more DATA. No stall: when
   * the laptop is out of credit, every byte it sent is here, due or owed, so the moment the
   * client's socket drains, at least a whole window is due.
   */
  private grantCredit(bytes: number): void {
    if (this.response.consumed(bytes)) queueMicrotask(() => this.sendCreditDue());
  }

  private sendCreditDue(): void {
    if (this.state === 'DONE') return;
    const bytes = this.response.takeCredit();
    if (bytes > 0) this.host.sendFrame(encodeCredit(this.sid, bytes));
  }

  /**
   * Before any head was sent: an answer in the provider's shape, so SDKs show our reason. A
   * lease that ended meanwhile is a 401 (SDKs refresh their key on a 401, they retry a 5xx);
   * anything else went wrong on the way, a 502.
   */
  private failClient(reason: string): void {
    this.finish();
    if (this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const ended = this.host.leaseEndedWhy(this.open.leaseId);
    if (ended) sendProviderRefusal(this.res, this.errorShape, 'lease-ended', { detail: ended });
    else sendProviderRefusal(this.res, this.errorShape, 'relay-failed', { detail: reason });
  }

  private finish(): void {
    if (this.state === 'DONE') return;
    this.state = 'DONE';
    this.req.resume(); // drain whatever body is left so the connection can be reused or closed
    this.host.streamDone(this.sid);
  }
}
