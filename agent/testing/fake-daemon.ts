// A scripted daemon for tests: speaks hello/welcome per the contract on a temp Unix socket.
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, decodeFrame, decodeMessage, encodeMessage, handshakeTranscript, type BinaryFrame, type Message, type TranscriptFields } from '../../protocol/index.js';
import { fingerprint, pairMac, signTranscript, verifyTranscript, wirePublicKey } from '../../protocol/node/crypto.js';

export interface FakeDaemonOptions {
  socketPath: string;
  serverId?: string;
  pairCode?: string;
  heartbeatMs?: number;
  maxLeaseTtlMs?: number;
  /** Break the welcome on purpose. */
  welcome?: 'good' | 'bad-sig' | 'bad-mac';
  /** Answer the agent's hb frames (default true). */
  answerHeartbeats?: boolean;
  key?: KeyObject;
}

type Received = Message | BinaryFrame;

export class FakeDaemon {
  readonly key: KeyObject;
  readonly publicKey: string;
  readonly received: Received[] = [];
  /** Every message that arrived before welcome, to prove what was (not) sent. */
  readonly handshakeMessages: Message[] = [];
  socket: WebSocket | undefined;
  private readonly http = http.createServer();
  private readonly wss = new WebSocketServer({ server: this.http });
  private waiters: { match: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];
  private connectionWaiters: ((ws: WebSocket) => void)[] = [];

  constructor(readonly opts: FakeDaemonOptions) {
    this.key = opts.key ?? generateKeyPairSync('ed25519').privateKey;
    this.publicKey = wirePublicKey(this.key);
    this.wss.on('connection', (ws) => this.onConnection(ws));
  }

  static async start(opts: FakeDaemonOptions): Promise<FakeDaemon> {
    const d = new FakeDaemon(opts);
    await new Promise<void>((resolve) => d.http.listen(opts.socketPath, resolve));
    return d;
  }

  get fingerprint(): string {
    return fingerprint(this.publicKey);
  }

  send(m: Message): void {
    this.socket?.send(encodeMessage(m));
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket?.send(data);
  }

  /** Resolves with the first received message (past or future) that matches. */
  next<T extends Received>(match: (m: Received) => m is T): Promise<T>;
  next(match: (m: Received) => boolean): Promise<Received>;
  next(match: (m: Received) => boolean): Promise<Received> {
    const i = this.received.findIndex(match);
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  nextOf<K extends Message['t']>(t: K): Promise<Extract<Message, { t: K }>> {
    return this.next((m): m is Extract<Message, { t: K }> => 't' in m && m.t === t);
  }

  connected(): Promise<WebSocket> {
    if (this.socket) return Promise.resolve(this.socket);
    return new Promise((resolve) => this.connectionWaiters.push(resolve));
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private push(m: Received): void {
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    else this.received.push(m);
  }

  private onConnection(ws: WebSocket): void {
    this.socket = ws;
    for (const w of this.connectionWaiters.splice(0)) w(ws);
    const nonce = randomBytes(32).toString('base64url');
    const serverId = this.opts.serverId ?? 'fake-box';
    let ready = false;
    ws.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, serverId, serverKey: this.publicKey, nonce }));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.push(decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
        return;
      }
      const m = decodeMessage(data.toString('utf8'));
      if (!ready) {
        this.handshakeMessages.push(m);
        if (m.t !== 'auth' && m.t !== 'pair') return;
        const f: TranscriptFields = { serverId, serverKey: this.publicKey, serverNonce: nonce, agentKey: m.agentKey, agentNonce: m.nonce, agentName: m.name };
        const role = m.t === 'auth' ? 'agent-auth' : 'agent-pair';
        const ok = verifyTranscript(handshakeTranscript(role, f), m.sig, m.agentKey) && (m.t === 'auth' || (this.opts.pairCode !== undefined && m.mac === pairMac(this.opts.pairCode, handshakeTranscript('pair-mac-agent', f))));
        if (!ok) {
          ws.send(encodeMessage({ t: 'error', code: m.t === 'auth' ? 'auth-failed' : 'pair-failed', message: 'refused' }));
          ws.close(4403);
          return;
        }
        const mode = this.opts.welcome ?? 'good';
        const sig = signTranscript(handshakeTranscript(mode === 'bad-sig' ? 'agent-auth' : 'daemon-welcome', f), this.key);
        const mac = m.t === 'pair' ? pairMac(mode === 'bad-mac' ? '0000000000000' : this.opts.pairCode!, handshakeTranscript('pair-mac-daemon', f)) : undefined;
        ready = true;
        ws.send(
          encodeMessage({
            t: 'welcome',
            v: PROTOCOL_VERSION,
            agentId: fingerprint(m.agentKey),
            sig,
            ...(mac ? { mac } : {}),
            heartbeatMs: this.opts.heartbeatMs ?? 1000,
            maxLeaseTtlMs: this.opts.maxLeaseTtlMs ?? 600_000,
          }),
        );
        return;
      }
      if (m.t === 'hb' && this.opts.answerHeartbeats !== false) ws.send(encodeMessage({ t: 'hb' }));
      this.push(m);
    });
  }
}

export function keyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}
