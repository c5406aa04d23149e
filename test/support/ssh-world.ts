// A laptop and a server that meet over real SSH: sshd on loopback, the laptop's own
// ~/.ssh (config, hashed known_hosts, a key held by its ssh-agent), and the World's mock
// provider and homes. The daemon is started by the agent over SSH, not by the test.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockProvider } from '../fixtures/mock-provider.js';
import { hashedKnownHostsLine } from '../../agent/servers/known-hosts.js';
import { SshAgent, Sshd, makeClientKey, type SshdOptions } from './sshd.js';
import { TetherProcess, readJsonIfExists } from './tether-process.js';
import { World, type DaemonState } from './world.js';

export interface SshHostSpec {
  alias: string;
  sshd: Sshd;
  extra?: string[];
  /** Point TETHER_HOME on the server at the World's server home (default true). */
  serverHome?: boolean;
  /** Connect here instead of the sshd's own port (a relay in front of it). */
  port?: number;
}

export class SshWorld {
  readonly world: World;
  readonly home: string;
  readonly sshDir: string;
  readonly sshAgent: SshAgent;
  readonly clientKey: string;
  readonly sshds: Sshd[] = [];
  /** `ssh` reads ~ from the password database, not $HOME: this wrapper points it at the laptop's ~/.ssh/config. */
  readonly sshWrapper: string;

  private constructor(world: World) {
    this.world = world;
    this.home = join(world.root, 'home');
    this.sshDir = join(this.home, '.ssh');
    mkdirSync(this.sshDir, { recursive: true, mode: 0o700 });
    this.sshAgent = new SshAgent(world.root);
    this.clientKey = makeClientKey(join(world.root, 'client_ed25519'));
    this.sshWrapper = join(world.root, 'ssh');
    writeFileSync(this.sshWrapper, `#!/bin/sh\nexec ssh -F '${join(this.sshDir, 'config')}' "$@"\n`);
    chmodSync(this.sshWrapper, 0o755);
  }

  /** World (mock provider + credentials on the laptop), an ssh-agent holding the client key. */
  static async create(approve = 'allow'): Promise<SshWorld> {
    const world = new World({ approve, noAgent: true });
    const w = new SshWorld(world);
    try {
      world.mock = await startMockProvider({ keys: world.keys });
      await world.addCredential('openai');
      await world.addCredential('anthropic');
      w.sshAgent.start();
      w.sshAgent.add(w.clientKey);
      return w;
    } catch (err) {
      await w.dispose();
      throw err;
    }
  }

  async sshd(name: string, options: SshdOptions = {}): Promise<Sshd> {
    const sshd = new Sshd(join(this.world.root, name), name, options);
    sshd.authorize(`${this.clientKey}.pub`);
    await sshd.start();
    this.sshds.push(sshd);
    return sshd;
  }

  /** Writes ~/.ssh/config from these blocks. */
  writeConfig(hosts: SshHostSpec[]): void {
    const blocks = hosts.map((h) =>
      [
        `Host ${h.alias}`,
        '  HostName 127.0.0.1',
        `  Port ${h.port ?? h.sshd.port}`,
        '  User root',
        ...(h.serverHome === false ? [] : [`  SetEnv TETHER_HOME=${this.world.serverHome}`]),
        ...(h.extra ?? []).map((l) => `  ${l}`),
      ].join('\n'),
    );
    // Last, so every Host's own value wins: ~ in ssh is root's home, not this laptop's.
    const defaults = ['Host *', `  UserKnownHostsFile ${join(this.sshDir, 'known_hosts')}`].join('\n');
    writeFileSync(join(this.sshDir, 'config'), [...blocks, defaults].join('\n\n') + '\n', { mode: 0o600 });
  }

  /** Adds a hashed known_hosts line for this sshd (as `ssh-keyscan -H` would). */
  trust(sshd: Sshd, file = join(this.sshDir, 'known_hosts'), keyLine = sshd.hostKeyLine, port = sshd.port): void {
    const [type, key] = keyLine.split(' ');
    const line = hashedKnownHostsLine('127.0.0.1', port, type!, key!, randomBytes(20));
    let existing = '';
    try {
      existing = readFileSync(file, 'utf8');
    } catch {
      // first line
    }
    writeFileSync(file, existing + line + '\n', { mode: 0o600 });
  }

  /** The laptop's environment: its HOME (for ~/.ssh) and ssh-agent. */
  get env(): Record<string, string> {
    return { HOME: this.home, SSH_AUTH_SOCK: this.sshAgent.socket, TETHER_VAULT_PASSPHRASE: this.world.passphrase, TETHER_SSH_BINARY: this.sshWrapper };
  }

  startAgent(args: string[], env: Record<string, string> = {}): TetherProcess {
    const agent = new TetherProcess(['agent', '--approve', this.world.options.approve ?? 'allow', ...args], {
      home: this.world.laptopHome,
      env: { ...this.env, ...env },
      logFile: this.world.logFile('agent'),
    });
    this.world.agent = agent;
    return agent;
  }

  daemonState(): DaemonState | undefined {
    const s = readJsonIfExists<DaemonState>(join(this.world.serverHome, 'run/daemon.json'));
    if (s) this.world.state = s;
    return s;
  }

  /** The daemon the agent started over SSH is detached: stop it by its pid. */
  stopServerDaemon(): void {
    const s = this.daemonState();
    if (!s) return;
    try {
      process.kill(s.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }

  async dispose(): Promise<void> {
    await this.world.agent?.stop();
    this.stopServerDaemon();
    await Promise.all(this.sshds.map((s) => s.stop()));
    this.sshAgent.stop();
    await this.world.dispose();
  }
}
