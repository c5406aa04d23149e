import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { PinnedServer } from '../config.js';
import { childEnv } from '../child-env.js';
import { fingerprint } from '../../protocol/node/crypto.js';
import { AskpassBroker } from './askpass.js';
import { bootScript } from './boot-script.js';
import { BootEnded, runBoot, type RuntimeSource } from './boot-session.js';
import { HostKeyUnknownError } from '../servers/host-key-trust.js';
import { openSshFailure } from './openssh-errors.js';
import { presentedHostKey } from './openssh-host-key.js';
import { remoteHomeFrom } from './ssh-binary.js';
import { attachArgs, installedNotice, keptNote, loadRemoteBundle, MIN_SERVER_NODE, runtimeNotice, short, type RemoteBundle } from './ssh-bootstrap.js';
import type { SshPrompter } from './ssh-prompt.js';
import type { Transport } from './transport.js';
import { websocketOver } from './ws-over-stream.js';

export interface OpenSshTransportOptions {
  serverName: string;
  /** What the user named, handed to ssh as is: a Host alias, user@host, ssh://user@host:port. */
  destination: string;
  sshBinary: string;
  env: NodeJS.ProcessEnv;
  /** The agent's 0700 run folder: the askpass program and its sockets live there. */
  runDir: string;
  /** Whether ~/.ssh/config names the destination as a Host (errors say so when it does not). */
  inSshConfig: boolean;
  /** What `ssh -G` says for the destination (undefined when ssh refused its config). */
  sshOptions: Map<string, string[]> | undefined;
  agentKey: () => Promise<{ publicKey: string; name: string }>;
  idleExitMs?: number;
  heartbeatMs?: () => number | undefined;
  notice?: (line: string) => void;
  prompt?: SshPrompter | undefined;
  runtime?: RuntimeSource | undefined;
  bundle?: RemoteBundle;
}

// Ours, whatever the user's config says: no pty and no escape character on a binary stream,
// no RemoteCommand of theirs instead of ours, none of their port forwards on our session.
const SSH_ARGS = ['-T', '-e', 'none', '-o', 'RemoteCommand=none', '-o', 'ClearAllForwardings=yes'];
const STDERR_LIMIT = 64 * 1024;
const CONNECT_TIMEOUT_S = 20;

/**
 * A daemon reached with the user's own `ssh`: its config, host-key checks and logins, with
 * whatever it asks going to a person through SSH_ASKPASS. One ssh process per link: its
 * session probes the server, installs what is missing, starts or reuses the daemon, and
 * then carries the link on its stdio (`tether attach --stdio` on the server).
 */
export class OpenSshTransport implements Transport {
  readonly serverName: string;
  pin: PinnedServer | undefined;
  note: string | undefined;
  private bundle: RemoteBundle | undefined;

  constructor(private readonly opts: OpenSshTransportOptions) {
    this.serverName = opts.serverName;
    this.bundle = opts.bundle;
  }

  async connect(): Promise<WebSocket> {
    this.bundle ??= loadRemoteBundle(this.opts.env);
    const bundle = this.bundle;
    const me = await this.opts.agentKey();
    const heartbeatMs = this.opts.heartbeatMs?.();
    const remoteHome = this.remoteHome();
    const script = bootScript({
      ...(remoteHome ? { remoteHome } : {}),
      runtimeVersion: this.opts.runtime?.version ?? 'none',
      minNodeMajor: MIN_SERVER_NODE,
      attachArgs: attachArgs({ agentKey: me.publicKey, agentName: me.name, ...(this.opts.idleExitMs !== undefined ? { idleExitMs: this.opts.idleExitMs } : {}), ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) }),
    });
    const askpass = await AskpassBroker.open(this.opts.runDir, this.serverName, this.opts.prompt, this.opts.notice);
    // A route that never answers gives up like the built-in client does, unless the user chose a ConnectTimeout.
    const timeout = this.opts.sshOptions?.get('connecttimeout')?.[0] === 'none' ? ['-o', `ConnectTimeout=${CONNECT_TIMEOUT_S}`] : [];
    const child = spawn(this.opts.sshBinary, [...SSH_ARGS, ...timeout, '--', this.opts.destination, script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own session: no terminal of ours to prompt on (askpass does), and Ctrl-C at the
      // agent's terminal reaches the agent, which says bye over this very ssh.
      detached: true,
      // ssh and what it runs (ProxyCommand, askpass) never see the vault passphrase.
      env: { ...childEnv(this.opts.env), ...askpass.env() },
    });
    const exited = watchChild(child);
    try {
      const boot = await Promise.race([
        runBoot(child.stdout!, child.stdin!, {
          alias: this.serverName,
          bundle,
          minNodeMajor: MIN_SERVER_NODE,
          runtime: this.opts.runtime,
          onRuntime: (r) => this.opts.notice?.(runtimeNotice(this.serverName, r, remoteHome)),
        }),
        exited.then(() => Promise.reject(new BootEnded('ssh exited'))),
      ]);
      askpass.close();
      this.report(boot.uploadedBundle, boot.answer, bundle, heartbeatMs);
      if (boot.rest.length) child.stdout!.unshift(boot.rest);
      const ws = await websocketOver(Duplex.from({ readable: child.stdout!, writable: child.stdin! }), this.serverName);
      ws.once('close', () => hangUp(child));
      void exited.then(() => ws.terminate());
      return ws;
    } catch (err) {
      askpass.close();
      hangUp(child);
      if (!(err instanceof BootEnded)) throw err;
      const { code, stderr } = await exited;
      const failure = openSshFailure(this.serverName, stderr, code, askpass.asked, askpass.unanswered, this.opts.inSshConfig);
      if (failure.code !== 'host-key-unknown') throw failure;
      // Trust on first use (the tray's "Trust and connect"): the key travels with the error.
      const presented = await presentedHostKey(this.opts.sshBinary, this.opts.destination, this.opts.env, this.opts.sshOptions);
      const named = /SHA256:[A-Za-z0-9+/]{43}/.exec(failure.message)?.[0];
      if (!presented || !presented.knownHostsFile || (named && named !== presented.fingerprint)) throw failure;
      throw new HostKeyUnknownError({ ...presented, alias: this.serverName }, `unknown host key for ${this.serverName}: ${presented.keyType} ${presented.fingerprint}; if that is the server's key, run \`ssh ${this.serverName}\` once to add it to known_hosts (or trust it in the Tether window), then connect again`);
    }
  }

  private remoteHome(): string | undefined {
    return remoteHomeFrom(this.opts.sshOptions);
  }

  private report(uploaded: boolean, answer: Awaited<ReturnType<typeof runBoot>>['answer'], bundle: RemoteBundle, heartbeatMs: number | undefined): void {
    const { notice } = this.opts;
    if (uploaded) notice?.(installedNotice(this.serverName, this.remoteHome()));
    this.note = keptNote(answer, { alias: this.serverName, bundle, ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) });
    if (this.note) notice?.(this.note);
    if (answer.replaced) notice?.(`replaced the daemon on ${this.serverName} (pid ${answer.replaced.pid}, bundle ${short(answer.replaced.bundle)}) with one of this bundle (${short(bundle.sha256)})`);
    this.pin = { url: this.serverName, serverId: answer.serverId, serverKey: answer.serverKey, fingerprint: fingerprint(answer.serverKey), pairedAt: new Date().toISOString() };
  }
}

/** Resolves once ssh has exited and its stderr is read, with what it said (bounded). */
function watchChild(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += d;
  });
  // EPIPE when ssh is gone: the exit below says why.
  child.stdin!.on('error', () => {});
  return new Promise((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve({ code: null, stderr: `${stderr}\nssh: cannot run ${child.spawnfile}: ${err.code ?? err.message}` }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** Ends the session: EOF first (the server's bridge closes the link, which revokes), then a signal if ssh lingers. */
function hangUp(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => {
    try {
      child.kill('SIGTERM');
    } catch {
      // gone
    }
  }, 2000);
  timer.unref();
  child.once('close', () => clearTimeout(timer));
}

