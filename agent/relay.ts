import type http from 'node:http';
import {
  FrameKind,
  ProtocolError,
  ReceiveWindow,
  SendWindow,
  encodeCredit,
  encodeData,
  encodeEnd,
  providerErrorBody,
  type BinaryFrame,
  type ErrorCode,
  type Message,
  type RelayAbort,
  type RelayOpen,
  endToEndHeaders,
  UNKNOWN_LEASE_ABORT,
} from '../protocol/index.js';
import { DEFAULT_PROVIDER_HEAD_TIMEOUT_MS, providerRequestHeaders, requestProvider, stalledMessage, type ProviderRequest } from '../protocol/node/provider-call.js';
import { upstreamUrl } from '../protocol/node/upstream-url.js';
import { TETHER_ERROR_HEADER, refusal, type RefusalCode } from '../protocol/refusals.js';
import type { ResolvedCredential } from './credentials.js';
import type { LeaseBook } from './lease-book.js';
import { authorizeSubscription, type ApplyAuth } from './subscription-auth.js';

export interface RelayPeer {
  send(message: Message): void;
  sendFrame(frame: Uint8Array): void;
  sendError(code: ErrorCode, message: string, ref?: string): void;
}

export interface RelayDone {
  sid: number;
  leaseId: string;
  credential: string;
  provider: string;
  method: string;
  status: number | 'aborted';
  bytesUp: number;
  bytesDown: number;
  ms: number;
}

export interface RelayDeps {
  peer: RelayPeer;
  leases: LeaseBook;
  resolve(credential: string): Promise<ResolvedCredential>;
  onDone?(done: RelayDone): void;
  /** A provider that makes no progress for this long before its response headers gets a 504. */
  upstreamTimeoutMs?: number;
}

const MAX_HEADERS = 256;
/** Ids of finished streams kept so late frames for them are ignored, not reported. */
const REMEMBERED_ENDED = 4096;

type StreamState = 'RESOLVING' | 'REQUESTING' | 'RESPONDING' | 'DONE';

/** The relay streams of one link: one LaptopRelayStream per proxied HTTP request. */
export class RelayHost {
  private readonly streams = new Map<number, LaptopRelayStream>();
  private readonly ended = new Set<number>();

  constructor(private readonly deps: RelayDeps) {}

  get active(): number {
    return this.streams.size;
  }

  /** Streams in flight per credential (only credentials with at least one). */
  activeByCredential(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.streams.values()) counts.set(s.credential, (counts.get(s.credential) ?? 0) + 1);
    return counts;
  }

  open(msg: RelayOpen): void {
    if (this.streams.has(msg.sid)) {
      this.deps.peer.sendError('bad-message', `relay stream ${msg.sid} is already open`, String(msg.sid));
      return;
    }
    const lease = this.deps.leases.get(msg.leaseId);
    if (!lease) {
      this.remember(msg.sid);
      this.deps.peer.send({ t: 'relay.abort', sid: msg.sid, reason: UNKNOWN_LEASE_ABORT });
      return;
    }
    const stream = new LaptopRelayStream(msg, lease.credential, this.deps, () => {
      this.streams.delete(msg.sid);
      this.remember(msg.sid);
    });
    this.streams.set(msg.sid, stream);
    stream.start();
  }

  abort(msg: RelayAbort): void {
    this.streams.get(msg.sid)?.abort(false, msg.reason);
  }

  frame(frame: BinaryFrame): void {
    const stream = this.streams.get(frame.sid);
    if (!stream) {
      if (!this.ended.has(frame.sid)) this.deps.peer.sendError('unknown-stream', `no relay stream ${frame.sid}`, String(frame.sid));
      return;
    }
    if (frame.kind === FrameKind.data) stream.requestData(frame.payload);
    else if (frame.kind === FrameKind.end) stream.requestEnd();
    else stream.credit(frame.bytes);
  }

  /** The link went away: drop every upstream call. */
  closeAll(reason: string): void {
    for (const stream of [...this.streams.values()]) stream.abort(false, reason);
  }

  /** A lease ended: its streams stop too. */
  abortLease(leaseId: string, reason: string): void {
    for (const stream of [...this.streams.values()]) if (stream.leaseId === leaseId) stream.abort(true, reason);
  }

  private remember(sid: number): void {
    this.ended.add(sid);
    if (this.ended.size > REMEMBERED_ENDED) this.ended.delete(this.ended.values().next().value!);
  }
}

/**
 * The laptop's side of one relayed request: DATA from the daemon → upstream request (credit
 * as upstream accepts it); upstream response → relay.head + DATA while credit lasts, the
 * response paused otherwise. The credit itself is protocol/flow-control.ts's.
 */
class LaptopRelayStream {
  private state: StreamState = 'RESOLVING';
  private upstream: ProviderRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private readonly early: Uint8Array[] = [];
  private earlyEnd = false;
  /** The request body from the daemon: credited back as soon as upstream accepts it. */
  private readonly request: ReceiveWindow;
  private awaitingDrain = 0;
  /** The response to the daemon. */
  private readonly response = new SendWindow();
  private readonly outbox: Buffer[] = [];
  private upstreamDone = false;
  private bytesUp = 0;
  private bytesDown = 0;
  private status: number | 'aborted' = 'aborted';
  private provider = '';
  private readonly startedAt = Date.now();
  readonly leaseId: string;

  constructor(
    private readonly open: RelayOpen,
    readonly credential: string,
    private readonly deps: RelayDeps,
    private readonly onGone: () => void,
  ) {
    this.leaseId = open.leaseId;
    this.request = new ReceiveWindow(open.sid, { batch: 1 });
  }

  start(): void {
    this.deps.resolve(this.credential).then(
      (cred) => (cred.login ? this.callWithLogin(cred) : this.callUpstream(cred)),
      (err: Error) => this.failBeforeHead('openai', 'credential-unavailable', `credential "${this.credential}" is not available: ${err.message}`),
    );
  }

  requestData(payload: Uint8Array): void {
    if (this.state === 'DONE') return;
    try {
      this.request.data(payload.byteLength);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.deps.peer.sendError(err.code, err.message, String(this.open.sid));
      this.abort(true, err.code);
      return;
    }
    this.bytesUp += payload.byteLength;
    if (!this.upstream) this.early.push(payload);
    else this.writeUp(payload);
  }

  requestEnd(): void {
    if (this.state === 'DONE' || this.request.peerEnded) return;
    this.request.end();
    if (!this.upstream) this.earlyEnd = true;
    else this.upstream.req.end();
  }

  credit(bytes: number): void {
    if (this.state === 'DONE') return;
    this.response.grant(bytes);
    this.pump();
  }

  /** `tell`: send relay.abort to the daemon (we gave up), rather than it aborting us. */
  abort(tell: boolean, reason: string): void {
    if (this.state === 'DONE') return;
    if (tell) this.deps.peer.send({ t: 'relay.abort', sid: this.open.sid, reason: reason.slice(0, 300) });
    this.finish('aborted');
  }

  /** A subscription: who is calling is checked, then the login's current access token goes on (see subscription-auth.ts). */
  private callWithLogin(cred: ResolvedCredential): void {
    authorizeSubscription(cred, this.open.caller).then(
      (outcome) => (outcome.ok ? this.callUpstream(cred, outcome.apply) : this.failBeforeHead(cred.spec.errorShape, outcome.code, outcome.message)),
      () => this.failBeforeHead(cred.spec.errorShape, 'login-failed', `the login of "${this.credential}" failed`),
    );
  }

  private callUpstream(cred: ResolvedCredential, applyAuth?: ApplyAuth): void {
    if (this.state === 'DONE') return;
    this.provider = cred.spec.id;
    if (cred.minter) {
      // Forward credentials are sent to the daemon on a grant; relaying one would run its command at the server's asking.
      this.failBeforeHead(cred.spec.errorShape, 'credential-unavailable', `"${this.credential}" is lent in forward mode: the server calls the provider itself`);
      return;
    }
    const target = upstreamUrl(cred.baseUrl, this.open.path);
    if (!target.ok) {
      this.failBeforeHead(cred.spec.errorShape, 'path-escape', `"${this.credential}": ${target.why}`);
      return;
    }
    const { url } = target;
    // A subscription's key header is the login's current access token, put on by applyAuth.
    const headers = providerRequestHeaders(this.open.headers, cred.spec.requiredHeaders, cred.keyHeader, applyAuth ? '' : cred.keyPrefix + cred.secret);
    applyAuth?.(headers);
    const timeoutMs = this.deps.upstreamTimeoutMs ?? DEFAULT_PROVIDER_HEAD_TIMEOUT_MS;
    let upstream: ProviderRequest | undefined;
    try {
      upstream = requestProvider(url, this.open.method, headers, timeoutMs);
    } catch (err) {
      // Node throws on a header name or value HTTP cannot carry: the daemon's relay.open is
      // not to be trusted that far (thrown here, it was an unhandled rejection: the agent died).
      this.failBeforeHead(cred.spec.errorShape, 'bad-request', `"${this.credential}": the request's headers cannot be sent (${(err as NodeJS.ErrnoException).code ?? 'invalid'})`);
      return;
    }
    if (!upstream) {
      this.failBeforeHead(cred.spec.errorShape, 'upstream-unreachable', `unsupported upstream scheme ${url.protocol}`);
      return;
    }
    this.state = 'REQUESTING';
    this.upstream = upstream;
    const { req } = upstream;
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.state !== 'REQUESTING') this.abort(true, `upstream ${url.host} failed: ${err.code ?? err.message}`);
      else if (upstream.timedOut) this.failBeforeHead(cred.spec.errorShape, 'upstream-timeout', stalledMessage(url.host, timeoutMs));
      else this.failBeforeHead(cred.spec.errorShape, 'upstream-unreachable', `cannot reach ${url.host}: ${err.code ?? err.message}`);
    });
    req.on('drain', () => {
      const n = this.awaitingDrain;
      this.awaitingDrain = 0;
      if (n > 0) this.giveCredit(n);
    });
    req.on('response', (res) => this.respond(res));
    for (const chunk of this.early.splice(0)) this.writeUp(chunk);
    if (this.earlyEnd) req.end();
  }

  private writeUp(payload: Uint8Array): void {
    this.upstream!.progress();
    if (this.upstream!.req.write(payload)) this.giveCredit(payload.byteLength);
    else this.awaitingDrain += payload.byteLength;
  }

  private giveCredit(bytes: number): void {
    if (this.state === 'DONE') return;
    if (this.request.consumed(bytes)) this.sendCredit(this.request.takeCredit());
    // After END the daemon sends no more DATA: this credit only settles the account, so it
    // waits for the relay.head and leaves in the same write instead of a write of its own.
    else if (this.request.peerEnded && this.state !== 'REQUESTING') this.releaseHeldCredit();
  }

  private releaseHeldCredit(): void {
    this.sendCredit(this.request.settle());
  }

  private sendCredit(bytes: number): void {
    if (bytes > 0) this.deps.peer.sendFrame(encodeCredit(this.open.sid, bytes));
  }

  private respond(res: http.IncomingMessage): void {
    if (this.state === 'DONE') {
      res.destroy();
      return;
    }
    this.res = res;
    this.state = 'RESPONDING';
    this.status = res.statusCode ?? 502;
    this.releaseHeldCredit();
    this.deps.peer.send({ t: 'relay.head', sid: this.open.sid, status: this.status, headers: downstreamHeaders(res.rawHeaders) });
    res.on('data', (chunk: Buffer) => {
      this.bytesDown += chunk.byteLength;
      this.outbox.push(chunk);
      this.pump();
    });
    res.on('end', () => {
      this.upstreamDone = true;
      this.pump();
    });
    // 'close' without 'end' means the upstream cut the response short.
    res.on('close', () => {
      if (!this.upstreamDone) this.abort(true, 'upstream response ended early');
    });
    res.on('error', () => {});
  }

  /** Send what credit allows; pause the upstream response when it runs out. */
  private pump(): void {
    if (this.state !== 'RESPONDING') return;
    while (this.outbox.length && this.response.available > 0) {
      const head = this.outbox[0]!;
      const n = this.response.take(head.byteLength);
      if (n === head.byteLength) this.outbox.shift();
      else this.outbox[0] = head.subarray(n);
      this.deps.peer.sendFrame(encodeData(this.open.sid, head.subarray(0, n)));
    }
    if (this.outbox.length) {
      this.res?.pause();
      return;
    }
    if (this.upstreamDone) {
      this.deps.peer.sendFrame(encodeEnd(this.open.sid));
      this.finish(this.status);
    } else if (this.res?.isPaused()) this.res.resume();
  }

  /** Tether's own answer in the provider's shape, with its refusal code (protocol/refusals.ts) in the body and a header. */
  private failBeforeHead(shape: Parameters<typeof providerErrorBody>[0], code: RefusalCode, detail: string): void {
    if (this.state === 'DONE') return;
    const { status, kind, message } = refusal(code, { detail });
    const body = Buffer.from(JSON.stringify(providerErrorBody(shape, status, kind, message, code)));
    const { sid } = this.open;
    this.releaseHeldCredit();
    const headers: [string, string][] = [['content-type', 'application/json'], ['content-length', String(body.byteLength)], [TETHER_ERROR_HEADER, code]];
    this.deps.peer.send({ t: 'relay.head', sid, status, headers });
    this.deps.peer.sendFrame(encodeData(sid, body));
    this.deps.peer.sendFrame(encodeEnd(sid));
    this.finish(status);
  }

  private finish(status: number | 'aborted'): void {
    if (this.state === 'DONE') return;
    this.state = 'DONE';
    this.outbox.length = 0;
    if (status === 'aborted' || !this.upstreamDone) {
      this.upstream?.req.destroy();
      this.res?.destroy();
    }
    this.onGone();
    this.deps.onDone?.({
      sid: this.open.sid,
      leaseId: this.leaseId,
      credential: this.credential,
      provider: this.provider,
      method: this.open.method,
      status,
      bytesUp: this.bytesUp,
      bytesDown: this.bytesDown,
      ms: Date.now() - this.startedAt,
    });
  }
}

function downstreamHeaders(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!.slice(0, 16 * 1024)]);
  return endToEndHeaders(out).slice(0, MAX_HEADERS);
}
