// The apparatus of the SSH differential suite: real sshds (several host key types, host
// certificates, a user CA), keys and ssh-agents on the laptop side, and two runners that try
// one ssh_config Host both ways: the real `ssh -F CONFIG -o BatchMode=yes HOST true` (the
// oracle) and `tether agent --connect HOST` on a given transport.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashedKnownHostsLine } from '../../agent/servers/known-hosts.js';
import { SshAgent, makeClientKey, type Sshd } from './sshd.js';
import type { SshWorld } from './ssh-world.js';
import { TetherProcess } from './tether-process.js';

export type Transport = 'builtin' | 'openssh';

/** What a tool did with a Host: connected, or refused with this kind of line. */
export type Outcome =
  | 'connects'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'ssh-option-unsupported'
  | 'ssh-auth-failed'
  | 'bad-config'
  | 'connect-failed';

/** The one `tether:` line of each refusal, by kind (the CLI prints the message, not the code). */
const REFUSALS: [Outcome, RegExp][] = [
  ['host-key-unknown', /unknown host key for /],
  ['host-key-changed', /HOST KEY CHANGED for |below RequiredRSASize/],
  ['host-key-revoked', /HOST KEY REVOKED for /],
  ['ssh-option-unsupported', /the built-in SSH transport will not connect/],
  ['ssh-auth-failed', /SSH login to \S+ as \S+ failed/],
  ['bad-config', /RevokedHostKeys for |ssh -G |ssh config|ssh_config/],
  ['connect-failed', /cannot reach \S+ over SSH/],
];

export interface ToolRun {
  /** `refuses`: ssh's exit, or one `tether:` line of no known kind; `other`: not exactly one line. */
  outcome: Outcome | 'refuses' | 'other';
  text: string;
  ms: number;
}

export class SshLab {
  readonly dir: string;
  readonly config: string;
  readonly mainKnownHosts: string;
  readonly agents: Record<string, SshAgent> = {};
  /**
   * Variables the config names (ssh checks some ${VAR}s for every Host when it parses the file),
   * for every run; a case sets its own values over these.
   */
  readonly env: Record<string, string> = {};
  private laptops = 0;

  constructor(readonly w: SshWorld) {
    this.dir = join(w.world.root, 'lab');
    for (const d of ['kh', 'keys', 'ca', 'conf.d', 'copies', 'vars']) mkdirSync(join(this.dir, d), { recursive: true, mode: 0o700 });
    this.config = join(w.sshDir, 'config');
    this.mainKnownHosts = join(this.dir, 'kh', 'main');
    writeFileSync(this.mainKnownHosts, '', { mode: 0o600 });
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** An ed25519 (or other) key pair in keys/; `passphrase` encrypts it. */
  key(name: string, opts: { type?: string; passphrase?: string; dir?: string } = {}): string {
    const file = join(opts.dir ?? this.path('keys'), name);
    if (opts.type && opts.type !== 'ed25519') execFileSync('ssh-keygen', ['-q', '-t', opts.type, '-N', opts.passphrase ?? '', '-C', name, '-f', file]);
    else makeClientKey(file, opts.passphrase ?? '');
    return file;
  }

  /** A CA key pair (ssh-keygen -s signs with it). */
  ca(name: string): string {
    return this.key(name, { dir: this.path('ca') });
  }

  /** A user certificate for `principals`, signed by `ca`: FILE-cert.pub beside the key. */
  userCertificate(keyFile: string, ca: string, principals: string): string {
    execFileSync('ssh-keygen', ['-q', '-s', ca, '-I', 'tether-test-user', '-n', principals, '-V', '-5m:+1d', `${keyFile}.pub`]);
    return `${keyFile}-cert.pub`;
  }

  agent(name: string, keys: string[]): SshAgent {
    const dir = this.path(`agent-${name}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const agent = new SshAgent(dir);
    agent.start();
    for (const k of keys) agent.add(k);
    this.agents[name] = agent;
    return agent;
  }

  /** Stops the lab's own ssh-agents (the World's sshds and agent stop with it). */
  stop(): void {
    for (const agent of Object.values(this.agents)) agent.stop();
  }

  /** A known_hosts file in kh/ with these lines. */
  knownHosts(name: string, lines: string[]): string {
    const file = this.path('kh', name);
    writeFileSync(file, lines.map((l) => l + '\n').join(''), { mode: 0o600 });
    return file;
  }

  /** A hashed `[127.0.0.1]:port` line for one of the sshd's keys, added to the main known_hosts. */
  trust(sshd: Sshd, keyLine = sshd.hostKeyLine): void {
    const [type, key] = keyLine.split(' ');
    writeFileSync(this.mainKnownHosts, readFileSync(this.mainKnownHosts, 'utf8') + hashedKnownHostsLine('127.0.0.1', sshd.port, type!, key!, Buffer.alloc(20, this.laptops++)) + '\n');
  }

  writeConfig(text: string): void {
    writeFileSync(this.config, text, { mode: 0o600 });
  }

  /** Per tool, a fresh folder (e.g. for a known_hosts that accept-new writes). */
  copy(caseName: string, tool: string, files: Record<string, string> = {}): string {
    const dir = this.path('copies', `${caseName}-${tool}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [name, from] of Object.entries(files)) copyFileSync(from, join(dir, name));
    return dir;
  }

  /** The oracle: `ssh -F CONFIG -o BatchMode=yes ARGS true`, with the laptop's HOME and agent. */
  async runSsh(args: string[], env: Record<string, string>): Promise<ToolRun> {
    const started = Date.now();
    const child = spawn('ssh', ['-F', this.config, '-o', 'BatchMode=yes', ...args, 'true'], {
      env: { ...process.env, ...this.w.env, ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    return { outcome: code === 0 ? 'connects' : 'refuses', text, ms: Date.now() - started };
  }

  /**
   * `tether agent --connect TARGET` on `transport`, from a laptop home of its own (so runs can
   * overlap); stopped again once connected. The outcome is read from its one `tether:` line.
   */
  async runTether(target: string, transport: Transport, env: Record<string, string>): Promise<ToolRun> {
    const started = Date.now();
    const home = this.path(`laptop-${++this.laptops}`);
    // --store memory: a fresh agent key each run, no scrypt; logind off: no gdbus watcher to start.
    const agent = new TetherProcess(['agent', '--connect', target, '--approve', 'allow', '--store', 'memory'], {
      home,
      env: { ...this.w.env, ...this.env, TETHER_SSH: transport, TETHER_LOGIND: 'off', ...env },
      logFile: this.w.world.logFile(`agent-${target.replace(/[^\w.-]/g, '_')}`),
    });
    const exited = once(agent.child, 'exit');
    const connected = agent.waitForOutput(new RegExp(`connected to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `), 40_000).then(
      () => true,
      () => false,
    );
    const ok = await connected;
    if (ok) {
      await agent.stop();
      return { outcome: 'connects', text: agent.text, ms: Date.now() - started };
    }
    await exited;
    const lines = agent.text.split('\n').filter((l) => l.startsWith('tether: '));
    const kind = lines.length === 1 ? (REFUSALS.find(([, re]) => re.test(lines[0]!))?.[0] ?? 'refuses') : 'other';
    return { outcome: kind, text: agent.text, ms: Date.now() - started };
  }
}

/** Runs `f` over `items`, at most `limit` at a time. */
export function pool(limit: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (f) => {
    while (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await f();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
