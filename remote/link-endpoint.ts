import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, type ErrorCode } from '../protocol/index.js';
import type { AcceptedAgent, HandshakeContext } from './handshake.js';
import { HandshakeSession } from './handshake-session.js';
import { UNIX_SOURCE, type PenaltyBox } from './penalty.js';
import { ListenerBudget, PRE_AUTH_LIMITS, closeUnauthenticatedAfterAnswer, extendDeadline, markAuthenticated, timeLeft, type BudgetLimits } from './listener-budget.js';
import type { TlsIdentity } from './tls-identity.js';

/** Time kept at the end of the pre-auth deadline to send a handshake refusal. */
const HANDSHAKE_REFUSAL_MS = 250;

/** `serve --listen HOST:PORT`: laptops also come in over wss:// with this certificate. */
export interface TlsListen {
  host: string;
  port: number;
  identity: TlsIdentity;
}

export interface LinkEndpointOptions {
  socketPath: string;
  ctx: HandshakeContext;
  penalty: PenaltyBox;
  handshakeTimeoutMs: number;
  onLink: (ws: WebSocket, agent: AcceptedAgent) => void;
  onRefused?: (code: ErrorCode) => void;
  tls?: TlsListen;
  /** The pre-authentication budget of each listener (remote/listener-budget.ts). */
  limits?: BudgetLimits;
  /** Rate-limited lines for the daemon's log: connections refused or cut before authenticating. */
  report?: (line: string) => void;
}

/**
 * The laptops' way in: a WebSocket server on a Unix socket (0600, in a 0700 folder), and with
 * `tls` also on a TCP port (wss://), where the peer's address is the penalty source.
 */
export class LinkEndpoint {
  private readonly server = http.createServer(refuseHttp);
  private readonly tlsServer: https.Server | undefined;
  private readonly sockets: WebSocketServer[] = [];

  constructor(private readonly opts: LinkEndpointOptions) {
    const limits = opts.limits ?? PRE_AUTH_LIMITS;
    const report = opts.report ?? (() => {});
    // Every peer of the Unix socket is our own uid: only the total cap tells them apart.
    new ListenerBudget('link socket', limits, report).watch(this.server);
    closeUnauthenticatedAfterAnswer(this.server, limits);
    this.attach(this.server);
    if (opts.tls) {
      this.tlsServer = https.createServer({ cert: opts.tls.identity.cert, key: opts.tls.identity.key, handshakeTimeout: limits.preAuthMs }, refuseHttp);
      const tlsBudget = new ListenerBudget('TLS port', limits, report, (socket) => socket.remoteAddress);
      tlsBudget.watch(this.tlsServer);
      // A ban stops more than new connections: the ones the source has open and waiting go too.
      opts.penalty.onBan((source) => tlsBudget.closeSource(source));
      closeUnauthenticatedAfterAnswer(this.tlsServer, limits);
      // Failed TLS handshakes (scanners, a laptop refusing our certificate) need no answer.
      this.tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
      this.attach(this.tlsServer);
    }
  }

  /** The wss:// URL laptops connect to, once listening with `tls`. */
  get url(): string | undefined {
    const address = this.tlsServer?.address();
    if (!address || typeof address === 'string') return undefined;
    return `wss://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  private attach(server: http.Server | https.Server): void {
    const wss = new WebSocketServer({ server, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    wss.on('connection', (ws, req) => {
      new HandshakeSession(ws, {
        ctx: this.opts.ctx,
        penalty: this.opts.penalty,
        source: req.socket.remoteAddress ?? UNIX_SOURCE,
        // The handshake ends inside the connection's pre-auth deadline, in time to say why.
        timeoutMs: Math.min(this.opts.handshakeTimeoutMs, Math.max(0, (timeLeft(req.socket) ?? Infinity) - HANDSHAKE_REFUSAL_MS)),
        holdFor: (ms) => extendDeadline(req.socket, ms),
        // Terminated a second after its refusal frame at most (refuseNow), so leaving the count is bounded.
        onFailed: () => markAuthenticated(req.socket),
        onReady: (ws, agent) => {
          markAuthenticated(req.socket);
          this.opts.onLink(ws, agent);
        },
        onRefused: this.opts.onRefused,
      }).start();
    });
    wss.on('error', () => {
      // Listening errors surface through listen(); nothing else reaches here.
    });
    this.sockets.push(wss);
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
    const { tls } = this.opts;
    const tlsServer = this.tlsServer;
    if (!tls || !tlsServer) return;
    try {
      await new Promise<void>((resolve, reject) => {
        tlsServer.once('error', reject);
        tlsServer.listen(tls.port, tls.host, () => {
          tlsServer.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.close();
      throw new Error(`cannot listen on ${tls.host}:${tls.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    for (const wss of this.sockets) {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    for (const server of [this.server, this.tlsServer]) {
      if (!server?.listening) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    fs.rmSync(this.opts.socketPath, { force: true });
  }
}

function refuseHttp(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain' }).end('tether: this endpoint speaks WebSocket only\n');
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
