import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { PAIR_CODE_ALPHABET, PAIR_CODE_LENGTH, PROTOCOL_VERSION, decodeFrame, decodeMessage, encodeMessage, handshakeTranscript, type BinaryFrame, type Message, type TranscriptFields } from '../../../protocol/index.js';
import { fingerprint, pairMac, signTranscript, verifyTranscript, wirePublicKey } from '../../../protocol/node/crypto.js';

export interface HostileEvents {
  /** A link finished its handshake (a real one: the agent checked our signature and MAC). */
  ready: [WebSocket];
  message: [Message];
  frame: [BinaryFrame];
}

/**
 * A daemon the test controls, on a Unix socket: it completes the handshake as the real
 * daemon does (pairing first, then auth with the pinned key) and then does whatever the
 * test sends through `ws`. What the agent sends it decodes with the protocol module.
 */
export class HostileDaemon extends EventEmitter<HostileEvents> {
  readonly pairCode = Array.from(randomBytes(PAIR_CODE_LENGTH), (b) => PAIR_CODE_ALPHABET[b % 32]).join('');
  ws: WebSocket | undefined;
  connections = 0;
  private readonly key = generateKeyPairSync('ed25519').privateKey;
  private readonly publicKey = wirePublicKey(this.key);
  private readonly http = http.createServer();
  private readonly wss = new WebSocketServer({ server: this.http, perMessageDeflate: false });

  constructor(
    readonly socketPath: string,
    private readonly heartbeatMs = 1000,
  ) {
    super();
    this.wss.on('connection', (ws) => this.handshake(ws));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(this.socketPath, resolve));
  }

  /** Resolves with the next READY link (the current one if it is open and `fresh` is false). */
  ready(fresh = false): Promise<WebSocket> {
    if (!fresh && this.ws && this.ws.readyState === this.ws.OPEN) return Promise.resolve(this.ws);
    return new Promise((resolve) => this.once('ready', resolve));
  }

  send(message: Message): void {
    this.ws?.send(encodeMessage(message));
  }

  sendFrame(frame: Uint8Array): void {
    this.ws?.send(frame);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  private handshake(ws: WebSocket): void {
    this.connections += 1;
    ws.on('error', () => {});
    const nonce = randomBytes(32).toString('base64url');
    const serverId = 'hostile-box';
    let ready = false;
    ws.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, serverId, serverKey: this.publicKey, nonce }));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        if (ready) this.emit('frame', decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
        return;
      }
      const m = decodeMessage(data.toString('utf8'));
      if (ready) {
        // Answered so the agent's watchdog sees a live daemon between bursts.
        if (m.t === 'hb') ws.send(encodeMessage({ t: 'hb' }));
        this.emit('message', m);
        return;
      }
      if (m.t !== 'auth' && m.t !== 'pair') return;
      const f: TranscriptFields = { serverId, serverKey: this.publicKey, serverNonce: nonce, agentKey: m.agentKey, agentNonce: m.nonce, agentName: m.name };
      const ok = verifyTranscript(handshakeTranscript(m.t === 'auth' ? 'agent-auth' : 'agent-pair', f), m.sig, m.agentKey) && (m.t === 'auth' || m.mac === pairMac(this.pairCode, handshakeTranscript('pair-mac-agent', f)));
      if (!ok) {
        ws.close(4403);
        return;
      }
      ready = true;
      const mac = m.t === 'pair' ? pairMac(this.pairCode, handshakeTranscript('pair-mac-daemon', f)) : undefined;
      ws.send(encodeMessage({ t: 'welcome', v: PROTOCOL_VERSION, agentId: fingerprint(m.agentKey), sig: signTranscript(handshakeTranscript('daemon-welcome', f), this.key), ...(mac ? { mac } : {}), heartbeatMs: this.heartbeatMs, maxLeaseTtlMs: 600_000 }));
      this.ws = ws;
      this.emit('ready', ws);
    });
  }
}
