import { EventEmitter } from 'node:events';
import { homedir, userInfo } from 'node:os';
import type { AddCredentialRequest, AppSettings, SettingsPatch } from '../protocol/bridge.js';
import type { ActivityEvent, AgentStatus, ApprovalEvent, LinkEvent, SshPromptEvent } from '../protocol/control.js';
import { readAppSettings, updateAppSettings } from './app-settings.js';
import { ApprovalQueue } from './approval-queue.js';
import { ApprovalPolicy } from './approvals.js';
import { AuditLog } from './audit.js';
import { readConfig, updateConfig, type StoreKind } from './config.js';
import { CredentialBook } from './credentials.js';
import type { CredentialEntry } from './config.js';
import { HostKeyUnknownError, trustPresentedKey, type PresentedHostKey } from './servers/host-key-trust.js';
import { ServerBook } from './servers/server-book.js';
import { fingerprint } from '../protocol/node/crypto.js';
import { AgentError } from './errors.js';
import { loadIdentity, type AgentIdentity } from './identity.js';
import { Link } from './link.js';
import { LinkSession } from './link-session.js';
import { Backoff, Reconnector } from './reconnect.js';
import { agentPaths, ensureDirs, type AgentPaths } from './paths.js';
import { StoreShelf, credentialAccount, type StoreOpener } from './secret-stores.js';
import { transportFor, type Transport, type TransportContext } from './transports/index.js';
import type { RuntimeSource } from './transports/boot-session.js';
import type { SshMode } from './transports/ssh-binary.js';
import { SshPromptQueue } from './ssh-prompt-queue.js';

export interface AgentConfig {
  home: string;
  policy: ApprovalPolicy;
  approvalTimeoutMs: number;
  leaseTtlMs: number;
  /** How long a provider may take to start answering a relayed call (default 60 s). */
  upstreamTimeoutMs?: number;
  name?: string;
  /** Opens a secret store of a kind (the vault's openStore, or a test's). */
  openStore: StoreOpener;
  /** Where the agent's own key lives when it is made. */
  identityStore: StoreKind;
  handshakeTimeoutMs?: number;
  /** One-line notices from transports (e.g. "installed tether on host"), for the log. */
  notice?: (line: string) => void;
  /** How long an SSH login's question waits for a person (default: sshd's LoginGraceTime, 2 min). */
  sshPromptTimeoutMs?: number;
  /** `--ssh`: the user's OpenSSH (default where installed) or the built-in client. */
  ssh?: SshMode;
  /** Node runtimes for servers without Node. */
  runtime?: RuntimeSource;
  /** How long a daemon started over SSH stays up with no laptop connected. */
  idleExitMs?: number;
  /** Heartbeat asked of daemons started over SSH; default: the Settings page's (settings.json). */
  heartbeatMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Retry a lost link with backoff (default true). */
  reconnect?: boolean;
}

export interface AgentEvents {
  link: [LinkEvent];
  approval: [ApprovalEvent];
  activity: [ActivityEvent];
  /** The app's settings changed (the tray applies start-at-login and reconnect-on-wake). */
  settings: [AppSettings];
  /** An SSH login asks a person something, or stopped asking (never an answer). */
  sshPrompt: [SshPromptEvent];
}

/**
 * The laptop side as one object: links to servers, approvals, leases, relay, audit.
 * `tether agent` and the tray app both host one of these.
 */
export class Agent extends EventEmitter<AgentEvents> {
  readonly paths: AgentPaths;
  readonly approvals: ApprovalQueue;
  /** What SSH logins ask (passphrase, password, code, host key): answered at the terminal or in a window. */
  readonly sshPrompts: SshPromptQueue;
  readonly credentials: CredentialBook;
  readonly audit: AuditLog;
  readonly startedAt = new Date().toISOString();
  private readonly stores: StoreShelf;
  private readonly sessions = new Map<string, LinkSession>();
  /** Each server's transport from its last connect: `tether status` shows its note (a kept older daemon). */
  private readonly transports = new Map<string, Transport>();
  /** Servers we keep connected: each retries on its own after a loss we did not ask for. */
  private readonly reconnectors = new Map<string, Reconnector>();
  private identity: Promise<AgentIdentity> | undefined;
  private policy: ApprovalPolicy;
  /** Host keys refused as unknown on the last attempt, per server: what trust-on-first-use may add. */
  private readonly unknownHostKeys = new Map<string, PresentedHostKey>();

  constructor(private readonly config: AgentConfig) {
    super();
    this.paths = agentPaths(config.home);
    ensureDirs(this.paths);
    readConfig(this.paths.config); // fail early on a broken config.json
    this.stores = new StoreShelf(config.openStore);
    this.credentials = new CredentialBook(this.paths.config, this.stores, { notice: (line) => this.config.notice?.(line) });
    this.audit = new AuditLog(this.paths.audit);
    this.policy = config.policy;
    this.approvals = new ApprovalQueue(config.approvalTimeoutMs);
    this.approvals.on('added', (approval) => this.emit('approval', { kind: 'added', approval }));
    this.approvals.on('resolved', (approval, o) => this.emit('approval', { kind: 'resolved', approval, answer: o.answer, by: o.by }));
    this.sshPrompts = new SshPromptQueue(config.sshPromptTimeoutMs);
    this.sshPrompts.on('added', (prompt) => this.emit('sshPrompt', { kind: 'added', prompt }));
    this.sshPrompts.on('resolved', (prompt, o) => this.emit('sshPrompt', { kind: 'resolved', prompt, by: o.by }));
  }

  setPolicy(policy: ApprovalPolicy): void {
    this.policy = policy;
  }

  loadIdentity(): Promise<AgentIdentity> {
    if (!this.identity) {
      this.identity = loadIdentity({
        configFile: this.paths.config,
        stores: this.stores,
        store: this.config.identityStore,
        ...(this.config.name ? { name: this.config.name } : {}),
      });
      this.identity.catch(() => (this.identity = undefined));
    }
    return this.identity;
  }

  /** Connects and completes the handshake; rejects with an AgentError saying why not. */
  async connect(url: string, opts: { pairCode?: string; ssh?: SshMode } = {}): Promise<LinkSession> {
    const transport = transportFor(url, { ...this.transportContext(), ...(opts.ssh ? { ssh: opts.ssh } : {}) });
    const existing = this.sessions.get(transport.serverName);
    if (existing && existing.link.state !== 'CLOSED') return existing;
    this.transports.set(transport.serverName, transport);
    const identity = await this.loadIdentity();
    const link = new Link({
      transport,
      identity,
      pinned: readConfig(this.paths.config).servers[transport.serverName],
      ...(opts.pairCode !== undefined ? { pairCode: opts.pairCode } : {}),
      onPaired: (server) =>
        updateConfig(this.paths.config, (c) => void (c.servers[transport.serverName] = { ...server, ...(transport.tlsFingerprint ? { tlsFingerprint: transport.tlsFingerprint } : {}) })),
      ...(this.config.handshakeTimeoutMs ? { handshakeTimeoutMs: this.config.handshakeTimeoutMs } : {}),
    });
    const session = new LinkSession(link, {
      credentials: this.credentials,
      policy: () => this.policy,
      approvals: this.approvals,
      audit: this.audit,
      leaseTtlMs: this.config.leaseTtlMs,
      ...(this.config.upstreamTimeoutMs ? { upstreamTimeoutMs: this.config.upstreamTimeoutMs } : {}),
    });
    session.on('activity', (a) => this.emit('activity', a));
    link.on('state', (state, reason) => this.emit('link', { server: link.serverName, state, ...(reason ? { reason: reason.message } : {}) }));
    link.on('state', (state, reason) => {
      if (state === 'CLOSED') this.reconnectors.get(link.serverName)?.linkClosed(reason?.message);
    });
    this.sessions.set(transport.serverName, session);
    try {
      await link.open();
    } catch (err) {
      if (err instanceof HostKeyUnknownError) this.unknownHostKeys.set(link.serverName, err.presented);
      this.audit.record({ event: 'link', server: link.serverName, status: 'refused', detail: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    this.unknownHostKeys.delete(link.serverName);
    this.audit.record({ event: 'link', server: link.serverName, status: 'ready', detail: link.server?.fingerprint ?? '' });
    session.sendOffer();
    if (!this.reconnectors.has(link.serverName) && this.config.reconnect !== false) {
      const name = link.serverName;
      this.reconnectors.set(
        name,
        new Reconnector(
          () => this.connect(url, opts.ssh ? { ssh: opts.ssh } : {}).then(() => undefined),
          new Backoff(),
          (why) => this.config.notice?.(`stopped reconnecting to ${name}: ${why}`),
        ),
      );
    }
    return session;
  }

  private transportContext(): TransportContext {
    const { notice, idleExitMs, env, ssh, runtime } = this.config;
    const queue = this.sshPrompts;
    return {
      home: this.config.home,
      agentKey: async () => {
        const id = await this.loadIdentity();
        return { publicKey: id.publicKey, name: id.name };
      },
      ...(notice ? { notice } : {}),
      // Whoever shows the queue answers: the agent's terminal, the tray's window, a UI on the control socket.
      prompt: (p, signal) => queue.ask(p, signal),
      passphrase: (file: string) => queue.ask({ kind: 'passphrase', text: `passphrase for ${file}: `, echo: false, host: '' }),
      ...(ssh ? { ssh } : {}),
      ...(runtime ? { runtime } : {}),
      ...(idleExitMs !== undefined ? { idleExitMs } : {}),
      heartbeatMs: () => this.config.heartbeatMs ?? this.settings().heartbeatS * 1000,
      ...(env ? { env } : {}),
    };
  }

  session(server: string): LinkSession | undefined {
    return this.sessions.get(server);
  }

  /** Leases this laptop has granted that are still live, on every server (a sleep lock follows it). */
  leaseCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.leases.size;
    return n;
  }

  /** Servers with a READY link right now (what a sleep guard reconnects on wake). */
  readyServers(): string[] {
    return [...this.sessions.values()].filter((s) => s.link.state === 'READY').map((s) => s.server);
  }

  /** `bye` to one server or all; their leases end at once on the daemon. */
  async disconnect(server?: string): Promise<void> {
    const targets = this.pick(server);
    for (const s of targets) {
      this.reconnectors.get(s.server)?.stop();
      this.reconnectors.delete(s.server);
    }
    await Promise.all(targets.map((s) => s.link.close('laptop disconnected')));
    for (const s of targets) this.sessions.delete(s.server);
  }

  revoke(server?: string): { servers: string[]; leases: number } {
    const targets = this.pick(server).filter((s) => s.link.state === 'READY');
    let leases = 0;
    for (const s of targets) leases += s.revoke('revoked on the laptop');
    return { servers: targets.map((s) => s.server), leases };
  }

  /** Ends one lease (`lease.revoke {leaseIds:[id]}`); the link and its other leases stay. */
  revokeLease(leaseId: string): { servers: string[]; leases: number } {
    for (const s of this.sessions.values()) {
      if (s.revokeLease(leaseId, 'revoked on the laptop')) return { servers: [s.server], leases: 1 };
    }
    throw new AgentError('not-found', `no live lease ${leaseId}: it has already ended`);
  }

  /**
   * A credential added from the UI: the secret goes into the keychain when one answers, else
   * the encrypted file (as `tether creds add` does), and is never returned or logged.
   */
  async addCredential(req: AddCredentialRequest): Promise<CredentialEntry> {
    let store: 'keychain' | 'file' = 'keychain';
    try {
      await this.stores.open('keychain');
    } catch {
      store = 'file';
    }
    const entry = await this.credentials.add({ ...req, store });
    this.reloadCredentials();
    return entry;
  }

  async removeCredential(name: string): Promise<void> {
    if (!(await this.credentials.remove(name))) throw new AgentError('not-found', `no credential named "${name}"`);
    this.reloadCredentials();
  }

  /** Which servers may use a credential; each READY link is re-offered what it may now use. */
  setCredentialServers(name: string, servers: string[] | null): CredentialEntry {
    const entry = this.credentials.setServers(name, servers ?? undefined);
    this.reloadCredentials();
    return entry;
  }

  settings(): AppSettings {
    return readAppSettings(this.config.home);
  }

  /** Saves and applies at once: the approval default and timeout hold for the next request. */
  updateSettings(patch: SettingsPatch): AppSettings {
    const next = updateAppSettings(this.config.home, patch);
    if (patch.approvalDefault) {
      this.setPolicy(ApprovalPolicy.fixed(patch.approvalDefault));
      // A new default holds for the next request, not only for providers not yet allowed.
      for (const session of this.sessions.values()) session.forgetAllowances();
    }
    if (patch.approvalTimeoutS) this.approvals.setTimeoutMs(patch.approvalTimeoutS * 1000);
    this.emit('settings', next);
    return next;
  }

  /** Hosts of ~/.ssh/config and servers added by hand. */
  serverBook(): ServerBook {
    const env = this.config.env ?? process.env;
    let user = env.USER;
    if (!user) {
      try {
        user = userInfo().username;
      } catch {
        user = 'root';
      }
    }
    return new ServerBook(this.config.home, { homeDir: env.HOME || homedir(), localUser: user, env });
  }

  /** Trust on first use: only the key the server presented last time, and only if the person saw its fingerprint. */
  trustHostKey(server: string, fingerprint: string): void {
    const presented = this.unknownHostKeys.get(server);
    if (!presented) throw new AgentError('not-found', `${server} has presented no unknown host key: connect first`);
    if (presented.fingerprint !== fingerprint) throw new AgentError('host-key-changed', `${server} presented ${presented.fingerprint}, not ${fingerprint}: not trusting it`);
    trustPresentedKey(presented);
    this.unknownHostKeys.delete(server);
    this.audit.record({ event: 'link', server, status: 'host-key-trusted', detail: `${presented.keyType} ${presented.fingerprint}` });
  }

  /** Re-reads credentials and tells every READY server what this laptop now lends. */
  reloadCredentials(): string[] {
    this.credentials.reload();
    let names: string[] = this.credentials.list().map((c) => c.name);
    for (const s of this.sessions.values()) if (s.link.state === 'READY') names = s.sendOffer();
    return names;
  }

  /** Keeps a secret in this process only (`--store memory`). */
  async setMemorySecret(name: string, secret: string): Promise<void> {
    const store = await this.stores.open('memory');
    await store.set(credentialAccount(name), secret);
    this.credentials.reload();
  }

  async status(socket: string): Promise<AgentStatus> {
    const config = readConfig(this.paths.config);
    const id = config.identity?.publicKey;
    return {
      pid: process.pid,
      name: this.config.name ?? config.name ?? (await this.loadIdentity()).name,
      ...(id ? { fingerprint: fingerprint(id) } : {}),
      startedAt: this.startedAt,
      socket,
      servers: [...this.sessions.values()].map((s) => {
        const note = this.transports.get(s.server)?.note;
        const view = note && s.link.state === 'READY' ? { ...s.view(), note } : s.view();
        const hostKey = this.unknownHostKeys.get(s.server);
        const withKey = hostKey && view.state === 'CLOSED' ? { ...view, hostKey: { fingerprint: hostKey.fingerprint, keyType: hostKey.keyType, host: hostKey.host, port: hostKey.port } } : view;
        const r = this.reconnectors.get(s.server);
        const retry = r?.describe();
        if (!r || !retry || view.state === 'READY') return withKey;
        return { ...withKey, reason: retry, retry: { attempt: r.attempts, ...(r.nextAt !== undefined ? { at: r.nextAt } : {}), ...(r.lastError ? { last: r.lastError } : {}) } };
      }),
      credentials: config.credentials.map((c) => ({ name: c.name, provider: c.provider, store: c.store, addedAt: c.addedAt, ...(c.baseUrl ? { baseUrl: c.baseUrl } : {}), ...(c.servers ? { servers: c.servers } : {}) })),
      pendingApprovals: this.approvals.pending().length,
      pendingSshPrompts: this.sshPrompts.pending().length,
    };
  }

  async close(): Promise<void> {
    this.approvals.cancel();
    this.sshPrompts.cancelAll();
    await this.disconnect();
    await this.audit.close();
  }

  private pick(server?: string): LinkSession[] {
    if (server === undefined) return [...this.sessions.values()];
    const s = this.sessions.get(server);
    if (!s) throw new AgentError('not-found', `not connected to ${server}: see \`tether status\``);
    return [s];
  }
}

export function createAgent(config: AgentConfig): Agent {
  return new Agent(config);
}
