import http from 'node:http';
import https from 'node:https';
import {
  FrameKind,
  KEY_HEADERS,
  MAX_DATA_CHUNK,
  RELAY_WINDOW,
  encodeCredit,
  encodeData,
  encodeEnd,
  providerErrorBody,
  type BinaryFrame,
  type ErrorCode,
  type ErrorKind,
  type Message,
  type RelayAbort,
  type RelayOpen,
  UNKNOWN_LEASE_ABORT,
} from '../protocol/index.js';
import { upstreamUrl } from '../protocol/node/upstream-url.js';
import type { ResolvedCredential } from './credentials.js';
import type { LeaseBook } from './lease-book.js';

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

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'host']);
const STRIPPED_UP = new Set<string>([...HOP_BY_HOP, ...KEY_HEADERS]);
const MAX_HEADERS = 256;
/** Ids of finished streams kept so late frames for them are ignored, not reported. */
const REMEMBERED_ENDED = 4096;

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

type StreamState = 'RESOLVING' | 'REQUESTING' | 'RESPONDING' | 'DONE';

/** The relay streams of one link: one RelayStream per proxied HTTP request. */
export class RelayHost {
  private readonly streams = new Map<number, RelayStream>();
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
    const stream = new RelayStream(msg, lease.credential, this.deps, () => {
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
 * One request: DATA from the daemon → upstream request (credit as upstream accepts it);
 * upstream response → relay.head + DATA while credit lasts, the response paused otherwise.
 */
class RelayStream {
  private state: StreamState = 'RESOLVING';
  private req: http.ClientRequest | undefined;
  private headTimer: NodeJS.Timeout | undefined;
  private res: http.IncomingMessage | undefined;
  private readonly early: Uint8Array[] = [];
  private earlyEnd = false;
  /** END came from the daemon: its request body is complete. */
  private endReceived = false;
  /** Credit owed for request bytes after END, sent with the relay.head (see giveCredit). */
  private heldCredit = 0;
  /** Bytes received from the daemon not yet credited back. */
  private unacked = 0;
  private awaitingDrain = 0;
  /** Bytes we may still send to the daemon. */
  private sendCredit = RELAY_WINDOW;
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
  }

  start(): void {
    this.deps.resolve(this.credential).then(
      (cred) => this.callUpstream(cred),
      (err: Error) => this.failBeforeHead('openai', `credential "${this.credential}" is not available: ${err.message}`),
    );
  }

  requestData(payload: Uint8Array): void {
    if (this.state === 'DONE') return;
    this.unacked += payload.byteLength;
    if (this.unacked > RELAY_WINDOW) {
      this.deps.peer.sendError('flow-control', `relay stream ${this.open.sid} sent more than its credit`, String(this.open.sid));
      this.abort(true, 'flow-control');
      return;
    }
    this.bytesUp += payload.byteLength;
    if (!this.req) this.early.push(payload);
    else this.writeUp(payload);
  }

  requestEnd(): void {
    if (this.state === 'DONE') return;
    this.endReceived = true;
    if (!this.req) this.earlyEnd = true;
    else this.req.end();
  }

  credit(bytes: number): void {
    if (this.state === 'DONE') return;
    this.sendCredit += bytes;
    this.pump();
  }

  /** `tell`: send relay.abort to the daemon (we gave up), rather than it aborting us. */
  abort(tell: boolean, reason: string): void {
    if (this.state === 'DONE') return;
    if (tell) this.deps.peer.send({ t: 'relay.abort', sid: this.open.sid, reason: reason.slice(0, 300) });
    this.finish('aborted');
  }

  private callUpstream(cred: ResolvedCredential): void {
    if (this.state === 'DONE') return;
    this.provider = cred.spec.id;
    if (cred.minter) {
      // Forward credentials are sent to the daemon on a grant; relaying one would run its command at the server's asking.
      this.failBeforeHead(cred.spec.errorShape, `"${this.credential}" is lent in forward mode: the server calls the provider itself`);
      return;
    }
    const target = upstreamUrl(cred.baseUrl, this.open.path);
    if (!target.ok) {
      this.failBeforeHead(cred.spec.errorShape, `"${this.credential}": ${target.why}`, 400, 'bad-request');
      return;
    }
    const { url } = target;
    const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined;
    if (!agent) {
      this.failBeforeHead(cred.spec.errorShape, `unsupported upstream scheme ${url.protocol}`);
      return;
    }
    const headers = upstreamHeaders(this.open.headers);
    for (const [name, value] of Object.entries(cred.spec.requiredHeaders)) headers[name] ??= value;
    headers[cred.keyHeader] = cred.keyPrefix + cred.secret;
    this.state = 'REQUESTING';
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: this.open.method, headers, agent });
    this.req = req;
    // Progress before the headers (connecting, each body chunk sent, then the wait itself)
    // refreshes the timer; once the answer streams, only the client decides when to give up.
    const timeoutMs = this.deps.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    let timedOut = false;
    this.headTimer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error('upstream timeout'));
    }, timeoutMs);
    req.once('finish', () => this.headTimer?.refresh());
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.state !== 'REQUESTING') this.abort(true, `upstream ${url.host} failed: ${err.code ?? err.message}`);
      else if (timedOut) this.failBeforeHead(cred.spec.errorShape, `${url.host} did not answer within ${formatMs(timeoutMs)}`, 504, 'timeout');
      else this.failBeforeHead(cred.spec.errorShape, `cannot reach ${url.host}: ${err.code ?? err.message}`);
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
    this.headTimer?.refresh();
    if (this.req!.write(payload)) this.giveCredit(payload.byteLength);
    else this.awaitingDrain += payload.byteLength;
  }

  private giveCredit(bytes: number): void {
    if (this.state === 'DONE') return;
    this.unacked -= bytes;
    // After END the daemon sends no more DATA: this credit only settles the account, so it
    // waits for the relay.head and leaves in the same write instead of a write of its own.
    if (this.endReceived && this.state === 'REQUESTING') this.heldCredit += bytes;
    else this.deps.peer.sendFrame(encodeCredit(this.open.sid, bytes));
  }

  private releaseHeldCredit(): void {
    if (this.heldCredit === 0) return;
    this.deps.peer.sendFrame(encodeCredit(this.open.sid, this.heldCredit));
    this.heldCredit = 0;
  }

  private respond(res: http.IncomingMessage): void {
    if (this.state === 'DONE') {
      res.destroy();
      return;
    }
    clearTimeout(this.headTimer);
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
    while (this.outbox.length && this.sendCredit > 0) {
      const head = this.outbox[0]!;
      const n = Math.min(head.byteLength, this.sendCredit, MAX_DATA_CHUNK);
      if (n === head.byteLength) this.outbox.shift();
      else this.outbox[0] = head.subarray(n);
      this.sendCredit -= n;
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

  private failBeforeHead(shape: Parameters<typeof providerErrorBody>[0], message: string, status = 502, kind: ErrorKind = 'upstream'): void {
    if (this.state === 'DONE') return;
    const body = Buffer.from(JSON.stringify(providerErrorBody(shape, status, kind, message)));
    const { sid } = this.open;
    this.releaseHeldCredit();
    this.deps.peer.send({ t: 'relay.head', sid, status, headers: [['content-type', 'application/json'], ['content-length', String(body.byteLength)]] });
    this.deps.peer.sendFrame(encodeData(sid, body));
    this.deps.peer.sendFrame(encodeEnd(sid));
    this.finish(status);
  }

  private finish(status: number | 'aborted'): void {
    if (this.state === 'DONE') return;
    this.state = 'DONE';
    clearTimeout(this.headTimer);
    this.outbox.length = 0;
    if (status === 'aborted' || !this.upstreamDone) {
      this.req?.destroy();
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

function upstreamHeaders(list: [string, string][]): http.OutgoingHttpHeaders {
  const connectionListed = new Set(
    list.filter(([k]) => k.toLowerCase() === 'connection').flatMap(([, v]) => v.split(',').map((s) => s.trim().toLowerCase())),
  );
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of list) {
    const name = rawName.toLowerCase();
    if (STRIPPED_UP.has(name) || connectionListed.has(name)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function downstreamHeaders(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length && out.length < MAX_HEADERS; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    out.push([name, raw[i + 1]!.slice(0, 16 * 1024)]);
  }
  return out;
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
