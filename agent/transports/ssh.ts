import type WebSocket from 'ws';
import type { PinnedServer } from '../config.js';
import { fingerprint } from '../../protocol/node/crypto.js';
import type { SshHost } from '../servers/ssh-config.js';
import type { RuntimeSource } from './boot-session.js';
import { bootstrapServer, loadRemoteBundle, type RemoteBundle } from './ssh-bootstrap.js';
import { forwardUnix, openSshChain, type SshAuthOptions } from './ssh-session.js';
import type { Transport } from './transport.js';
import { websocketOver } from './ws-over-stream.js';

/** Per server name, in this process: the daemon socket and key from the last attach. */
const attached = new Map<string, { socket: string; pin: PinnedServer }>();

export interface SshTransportOptions {
  serverName: string;
  target: SshHost;
  hops: SshHost[];
  auth: SshAuthOptions;
  /** Who we are, so the server can authorize us over the SSH login. */
  agentKey: () => Promise<{ publicKey: string; name: string }>;
  idleExitMs?: number;
  /** The laptop's heartbeat setting at connect time: a daemon started for us uses it. */
  heartbeatMs?: () => number | undefined;
  notice?: (line: string) => void;
  runtime?: RuntimeSource | undefined;
  bundle?: RemoteBundle;
}

/**
 * A daemon reached over SSH: log in (ssh-agent, IdentityFile, ProxyJump; host keys from
 * known_hosts), make the server ready, then WebSocket through a stream-local forward to
 * the daemon's Unix socket. No port is opened on the server.
 */
export class SshTransport implements Transport {
  readonly serverName: string;
  /** The daemon key learned over SSH on the last connect: the link pins it. */
  pin: PinnedServer | undefined;
  /** Set when the server's daemon is not the one we asked for (older bundle, other heartbeat) and was kept. */
  note: string | undefined;
  private bundle: RemoteBundle | undefined;

  constructor(private readonly opts: SshTransportOptions) {
    this.serverName = opts.serverName;
    this.bundle = opts.bundle;
  }

  async connect(): Promise<WebSocket> {
    this.bundle ??= loadRemoteBundle();
    const me = await this.opts.agentKey();
    const clients = await openSshChain(this.opts.target, this.opts.hops, this.opts.auth);
    const endAll = () => clients.forEach((c) => c.end());
    try {
      const server = clients.at(-1)!;
      // Reconnecting: the daemon we attached to last time is most likely still there; go
      // straight to its socket and skip the server-side setup (two Node starts there).
      const known = attached.get(this.serverName);
      if (known) {
        const stream = await forwardUnix(server, known.socket).catch(() => undefined);
        if (stream) {
          this.pin = known.pin;
          return this.finish(await websocketOver(stream, this.serverName), clients, endAll);
        }
        attached.delete(this.serverName);
      }
      const heartbeatMs = this.opts.heartbeatMs?.();
      const boot = await bootstrapServer(server, {
        alias: this.opts.target.alias,
        ...(this.opts.target.setEnv.TETHER_HOME ? { remoteHome: this.opts.target.setEnv.TETHER_HOME } : {}),
        bundle: this.bundle,
        agentKey: me.publicKey,
        agentName: me.name,
        ...(this.opts.idleExitMs !== undefined ? { idleExitMs: this.opts.idleExitMs } : {}),
        ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
        ...(this.opts.notice ? { notice: this.opts.notice } : {}),
        runtime: this.opts.runtime,
      });
      this.pin = {
        url: this.serverName,
        serverId: boot.serverId,
        serverKey: boot.serverKey,
        fingerprint: fingerprint(boot.serverKey),
        pairedAt: new Date().toISOString(),
      };
      this.note = boot.note;
      const stream = await forwardUnix(server, boot.socket);
      // A kept daemon that is not ours: attach again next time, so it is replaced as soon as it may be.
      if (!boot.note) attached.set(this.serverName, { socket: boot.socket, pin: this.pin });
      return this.finish(await websocketOver(stream, this.serverName), clients, endAll);
    } catch (err) {
      endAll();
      throw err;
    }
  }

  private finish(ws: WebSocket, clients: { once(event: 'close', f: () => void): unknown }[], endAll: () => void): WebSocket {
    ws.once('close', endAll);
    // Any hop going away takes the link with it.
    for (const c of clients) c.once('close', () => ws.terminate());
    return ws;
  }
}
