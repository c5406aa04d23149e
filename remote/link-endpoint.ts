import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, type ErrorCode } from '../protocol/index.js';
import type { AcceptedAgent, HandshakeContext } from './handshake.js';
import { HandshakeSession } from './handshake-session.js';
import { UNIX_SOURCE, type PenaltyBox } from './penalty.js';

export interface LinkEndpointOptions {
  socketPath: string;
  ctx: HandshakeContext;
  penalty: PenaltyBox;
  handshakeTimeoutMs: number;
  onLink: (ws: WebSocket, agent: AcceptedAgent) => void;
  onRefused?: (code: ErrorCode) => void;
}

/** The laptops' way in: a WebSocket server on a Unix socket (0600, in a 0700 folder). */
export class LinkEndpoint {
  private readonly server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('tether: this socket speaks WebSocket only\n');
  });
  private readonly wss: WebSocketServer;

  constructor(private readonly opts: LinkEndpointOptions) {
    this.wss = new WebSocketServer({ server: this.server, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    this.wss.on('connection', (ws, req) => {
      new HandshakeSession(ws, {
        ctx: opts.ctx,
        penalty: opts.penalty,
        source: req.socket.remoteAddress ?? UNIX_SOURCE,
        timeoutMs: opts.handshakeTimeoutMs,
        onReady: opts.onLink,
        onRefused: opts.onRefused,
      }).start();
    });
    this.wss.on('error', () => {
      // Listening errors surface through listen(); nothing else reaches here.
    });
  }

  async listen(): Promise<void> {
    await removeStaleSocket(this.opts.socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(this.opts.socketPath, 0o600);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.opts.socketPath, { force: true });
  }
}

/** A socket file nobody answers on is left over from a crash; a live one belongs to another daemon. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket: move it away or pick another --socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another tether daemon is already listening on ${socketPath}: stop it first or pick another --socket`);
  fs.rmSync(socketPath, { force: true });
}
