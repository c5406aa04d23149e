import crypto, { type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import {
  FrameKind,
  MAX_DATA_CHUNK,
  PROTOCOL_VERSION,
  RELAY_WINDOW,
  decodeFrame,
  decodeMessage,
  encodeCredit,
  encodeData,
  encodeEnd,
  encodeMessage,
  handshakeTranscript,
  normalizePairCode,
  type Hello,
  type Message,
  type MessageOf,
  type MessageType,
  type Offer,
  type RelayOpen,
  type TranscriptFields,
} from '../../protocol/index.js';

/**
 * A scripted protocol-v1 client for tests: a real `ws` client with a real Ed25519 key,
 * speaking through the same protocol module. It does only what a test tells it to, so
 * tests can also make it misbehave. It is a test driver, not a stand-in for the agent.
 */

export interface Closed {
  code: number;
  reason: string;
}

export function newAgentKey(): KeyObject {
  return crypto.generateKeyPairSync('ed25519').privateKey;
}

function publicText(privateKey: KeyObject): string {
  return crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
}

function sign(text: string, key: KeyObject): string {
  return crypto.sign(null, Buffer.from(text, 'utf8'), key).toString('base64url');
}

function mac(code: string, text: string): string {
  return crypto.createHmac('sha256', Buffer.from(normalizePairCode(code), 'utf8')).update(text, 'utf8').digest('base64url');
}

export class FakeLaptop {
  readonly agentKey: string;
  readonly nonce = crypto.randomBytes(32).toString('base64url');
  hello!: Hello;
  readonly received: Message[] = [];
  readonly closed: Promise<Closed>;
  private readonly inbox = new EventEmitter();
  private readonly streams = new Map<number, FakeStream>();
  private heartbeat: NodeJS.Timeout | undefined;
  /** Called for every relay.open; the test answers through the stream. */
  onRelayOpen: (stream: FakeStream) => void = () => {};

  private constructor(
    readonly ws: WebSocket,
    readonly key: KeyObject,
    readonly name: string,
  ) {
    this.agentKey = publicText(key);
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.receiveFrame(bytes);
      else this.receiveMessage(decodeMessage(bytes.toString('utf8')));
    });
  }

  /** Connects (to a socket path, or a wss:// URL, whose certificate it does not check) and waits for the daemon's hello. */
  static async connect(socketPath: string, opts: { key?: KeyObject; name?: string } = {}): Promise<FakeLaptop> {
    const ws = socketPath.startsWith('wss://') ? new WebSocket(socketPath, { rejectUnauthorized: false }) : new WebSocket(`ws+unix:${socketPath}:/`);
    const laptop = new FakeLaptop(ws, opts.key ?? newAgentKey(), opts.name ?? 'test-laptop');
    const hello = laptop.next('hello');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    laptop.hello = await hello;
    return laptop;
  }

  transcriptFields(): TranscriptFields {
    return {
      serverId: this.hello.serverId,
      serverKey: this.hello.serverKey,
      serverNonce: this.hello.nonce,
      agentKey: this.agentKey,
      agentNonce: this.nonce,
      agentName: this.name,
    };
  }

  authMessage(): MessageOf<'auth'> {
    const sig = sign(handshakeTranscript('agent-auth', this.transcriptFields()), this.key);
    return { t: 'auth', v: PROTOCOL_VERSION, agentKey: this.agentKey, name: this.name, nonce: this.nonce, sig };
  }

  pairMessage(code: string): MessageOf<'pair'> {
    const fields = this.transcriptFields();
    return {
      t: 'pair',
      v: PROTOCOL_VERSION,
      agentKey: this.agentKey,
      name: this.name,
      nonce: this.nonce,
      sig: sign(handshakeTranscript('agent-pair', fields), this.key),
      mac: mac(code, handshakeTranscript('pair-mac-agent', fields)),
    };
  }

  /** Verifies the daemon's welcome signature (and MAC after pairing), as a real agent must. */
  checkWelcome(welcome: MessageOf<'welcome'>, code?: string): boolean {
    const fields = this.transcriptFields();
    const serverKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: this.hello.serverKey }, format: 'jwk' });
    const sigOk = crypto.verify(null, Buffer.from(handshakeTranscript('daemon-welcome', fields)), serverKey, Buffer.from(welcome.sig, 'base64url'));
    if (code === undefined) return sigOk;
    return sigOk && welcome.mac === mac(code, handshakeTranscript('pair-mac-daemon', fields));
  }

  /** Sends auth (or pair with a code) and resolves with the welcome; rejects with the error frame's code. */
  async handshake(code?: string): Promise<MessageOf<'welcome'>> {
    const answer = this.answerToHandshake();
    this.send(code === undefined ? this.authMessage() : this.pairMessage(code));
    return answer;
  }

  /** The daemon's welcome, or a HandshakeRefused with the code of its error frame. */
  async answerToHandshake(): Promise<MessageOf<'welcome'>> {
    const answer = await this.nextWhere((m): m is MessageOf<'welcome'> | MessageOf<'error'> => m.t === 'welcome' || m.t === 'error');
    if (answer.t === 'error') throw new HandshakeRefused(answer.code);
    return answer;
  }

  send(message: Message): void {
    this.ws.send(encodeMessage(message));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  sendFrame(frame: Uint8Array): void {
    this.ws.send(frame);
  }

  offer(credentials: Offer['credentials']): void {
    this.send({ t: 'offer', credentials });
  }

  startHeartbeat(ms: number): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => this.ws.readyState === WebSocket.OPEN && this.send({ t: 'hb' }), ms);
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** The next message of this type (already received ones count first, each only once). */
  next<T extends MessageType>(type: T, match: (m: MessageOf<T>) => boolean = () => true): Promise<MessageOf<T>> {
    return this.nextWhere((m): m is MessageOf<T> => m.t === type && match(m as MessageOf<T>));
  }

  nextWhere<M extends Message>(match: (m: Message) => m is M): Promise<M> {
    const take = (): M | undefined => {
      const i = this.received.findIndex(match);
      return i < 0 ? undefined : (this.received.splice(i, 1)[0] as M);
    };
    const found = take();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onMessage = () => {
        const m = take();
        if (!m) return;
        cleanup();
        resolve(m);
      };
      const onClose = () => {
        cleanup();
        reject(new Error('connection closed while waiting for a message'));
      };
      const cleanup = () => {
        this.inbox.off('message', onMessage);
        this.ws.off('close', onClose);
      };
      this.inbox.on('message', onMessage);
      this.ws.once('close', onClose);
    });
  }

  close(): void {
    this.stopHeartbeat();
    this.ws.terminate();
  }

  stream(sid: number): FakeStream | undefined {
    return this.streams.get(sid);
  }

  private receiveMessage(message: Message): void {
    if (message.t === 'relay.open') {
      const stream = new FakeStream(this, message);
      this.streams.set(message.sid, stream);
      this.onRelayOpen(stream);
    } else if (message.t === 'relay.abort') {
      this.streams.get(message.sid)?.markAborted(message.reason);
    }
    this.received.push(message);
    this.inbox.emit('message');
  }

  private receiveFrame(bytes: Buffer): void {
    const frame = decodeFrame(bytes);
    const stream = this.streams.get(frame.sid);
    if (!stream) return;
    if (frame.kind === FrameKind.data) stream.receiveData(frame.payload);
    else if (frame.kind === FrameKind.end) stream.receiveEnd();
    else stream.receiveCredit(frame.bytes);
  }
}

export class HandshakeRefused extends Error {
  constructor(readonly code: string) {
    super(`handshake refused: ${code}`);
  }
}

/** The laptop's end of one relay stream, with honest credit accounting. */
export class FakeStream extends EventEmitter {
  readonly sid: number;
  readonly body: Buffer[] = [];
  requestEnded = false;
  abortReason: string | undefined;
  /** Response bytes we may still send. */
  credit = RELAY_WINDOW;
  bytesSent = 0;
  creditReceived = 0;
  /** Return credit for request bytes as they arrive (true) or never (false). */
  autoCredit = true;

  constructor(
    private readonly laptop: FakeLaptop,
    readonly open: RelayOpen,
  ) {
    super();
    this.sid = open.sid;
  }

  head(status: number, headers: [string, string][] = [['content-type', 'application/json']]): void {
    this.laptop.send({ t: 'relay.head', sid: this.sid, status, headers });
  }

  /** Sends `total` bytes as fast as credit allows; resolves when all are sent or the stream was aborted. */
  async sendBody(total: number, fill = 0x61): Promise<void> {
    let left = total;
    while (left > 0 && this.abortReason === undefined) {
      if (this.credit === 0) {
        this.emit('stalled');
        await new Promise((resolve) => this.once('credit', resolve));
        continue;
      }
      const n = Math.min(left, this.credit, MAX_DATA_CHUNK);
      this.laptop.sendFrame(encodeData(this.sid, Buffer.alloc(n, fill)));
      this.credit -= n;
      this.bytesSent += n;
      left -= n;
      // Let the socket and the daemon's credits through between chunks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  send(bytes: Uint8Array): void {
    this.laptop.sendFrame(encodeData(this.sid, bytes));
    this.bytesSent += bytes.byteLength;
    this.credit -= bytes.byteLength;
  }

  end(): void {
    this.laptop.sendFrame(encodeEnd(this.sid));
  }

  abort(reason: string): void {
    this.laptop.send({ t: 'relay.abort', sid: this.sid, reason });
  }

  requestBody(): Promise<Buffer> {
    if (this.requestEnded) return Promise.resolve(Buffer.concat(this.body));
    return new Promise((resolve) => this.once('request-end', () => resolve(Buffer.concat(this.body))));
  }

  receiveData(payload: Uint8Array): void {
    this.body.push(Buffer.from(payload));
    if (this.autoCredit && payload.byteLength > 0) this.laptop.sendFrame(encodeCredit(this.sid, payload.byteLength));
  }

  receiveEnd(): void {
    this.requestEnded = true;
    this.emit('request-end');
  }

  receiveCredit(bytes: number): void {
    this.credit += bytes;
    this.creditReceived += bytes;
    this.emit('credit', bytes);
  }

  markAborted(reason: string): void {
    this.abortReason = reason;
    this.emit('credit'); // wake a sender waiting for credit
    this.emit('aborted', reason);
  }
}
