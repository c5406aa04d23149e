// A real OpenSSH sshd on loopback, with its own host key and config, and a laptop-side
// ~/.ssh (config, known_hosts, a client key, an ssh-agent) in a temporary folder.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './tether-process.js';

export { freePort };

export const SSHD_BIN = '/usr/sbin/sshd';
export const sshdAvailable = existsSync(SSHD_BIN) && existsSync('/usr/bin/ssh-agent') && process.getuid?.() === 0;

export type HostKeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface SshdOptions {
  /** Host keys, in the order sshd offers them (default: ed25519 only). */
  hostKeys?: HostKeyType[];
  /** A CA private key (ssh-keygen -s): the first host key gets a host certificate for these principals. */
  hostCertificate?: { ca: string; principals: string };
  /** More sshd_config lines, after the defaults (TrustedUserCAKeys, MaxAuthTries, …). */
  extra?: string[];
  /** sshd_config lines before the defaults, so they win over them (sshd takes a keyword's first value). */
  config?: string[];
  /**
   * PAM `auth` lines: sshd runs with `UsePAM yes` under a PAM service of its own. OpenSSH names
   * its PAM service after the program (auth-pam.c: SSHD_PAM_SERVICE is __progname), so it runs
   * through a symlink called `tether-test-sshd-…` with `/etc/pam.d/` of that name, written at
   * start and removed at stop; the system's own sshd service is never touched.
   */
  pam?: string[];
}

/** The PAM services of this process's sshds, removed on exit even when a test forgets. */
const pamFiles = new Set<string>();
process.once('exit', () => pamFiles.forEach((f) => rmSync(f, { force: true })));

/** One sshd: `root` logs in with the keys in `authorizedKeys` (a file in the temp dir). */
export class Sshd {
  child: ChildProcess | undefined;
  readonly hostKey: string;
  readonly hostKeys: Record<HostKeyType, string | undefined> = { ed25519: undefined, ecdsa: undefined, rsa: undefined };
  readonly authorizedKeys: string;
  readonly log: string;
  port = 0;
  /** Its PAM service file under /etc/pam.d, when it has one. */
  pamFile: string | undefined;

  constructor(
    readonly dir: string,
    readonly name = 'sshd',
    readonly options: SshdOptions = {},
  ) {
    mkdirSync(dir, { recursive: true });
    for (const type of options.hostKeys ?? ['ed25519']) {
      const file = join(dir, `${name}_host_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', file]);
      this.hostKeys[type] = file;
    }
    this.hostKey = this.hostKeys[(options.hostKeys ?? ['ed25519'])[0]!]!;
    if (options.hostCertificate) {
      execFileSync('ssh-keygen', ['-q', '-s', options.hostCertificate.ca, '-I', `${name}-host`, '-h', '-n', options.hostCertificate.principals, '-V', '-5m:+1d', `${this.hostKey}.pub`]);
    }
    this.authorizedKeys = join(dir, `${name}_authorized_keys`);
    this.log = join(dir, `${name}.log`);
    writeFileSync(this.authorizedKeys, '', { mode: 0o600 });
  }

  /** A host key line as known_hosts wants it, without the host part: "ssh-ed25519 AAAA…". */
  keyLine(type: HostKeyType): string {
    return readFileSync(`${this.hostKeys[type]}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  }

  get hostKeyLine(): string {
    return readFileSync(`${this.hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  }

  /** OpenSSH's own SHA256 fingerprint of the (first) host key. */
  get fingerprint(): string {
    return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${this.hostKey}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!;
  }

  /** How many logins sshd accepted so far (its log), to see which hops a connection went through. */
  acceptedLogins(): number {
    try {
      return (readFileSync(this.log, 'utf8').match(/Accepted \S+ for /g) ?? []).length;
    } catch {
      return 0;
    }
  }

  authorize(publicKeyFile: string): void {
    appendFileSync(this.authorizedKeys, readFileSync(publicKeyFile, 'utf8'));
  }

  async start(port?: number): Promise<void> {
    this.port = port ?? (await freePort());
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const config = join(this.dir, `${this.name}_config`);
    let program = SSHD_BIN;
    if (this.options.pam) {
      const service = `tether-test-sshd-${randomBytes(5).toString('hex')}`;
      program = join(this.dir, service);
      symlinkSync(SSHD_BIN, program);
      this.pamFile = `/etc/pam.d/${service}`;
      pamFiles.add(this.pamFile);
      // Only our module decides; account and session say yes (no system accounts are involved).
      writeFileSync(this.pamFile, [...this.options.pam, 'account required pam_permit.so', 'session required pam_permit.so', 'password required pam_deny.so', ''].join('\n'));
    }
    writeFileSync(
      config,
      [
        ...(this.options.config ?? []),
        ...(this.options.pam ? ['UsePAM yes'] : []),
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        ...Object.values(this.hostKeys)
          .filter((f): f is string => f !== undefined)
          .map((f) => `HostKey ${f}`),
        ...(this.options.hostCertificate ? [`HostCertificate ${this.hostKey}-cert.pub`] : []),
        `PidFile ${join(this.dir, `${this.name}.pid`)}`,
        `AuthorizedKeysFile ${this.authorizedKeys}`,
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        'AllowStreamLocalForwarding yes',
        'AllowTcpForwarding yes',
        'ClientAliveInterval 0',
        'LogLevel VERBOSE',
        // Real ssh sends SetEnv only where sshd accepts it (the tests point the server's TETHER_HOME).
        'AcceptEnv TETHER_HOME',
        ...(this.options.extra ?? []),
        '',
      ].join('\n'),
    );
    // -D: stay in the foreground (we own the process); -e: log to stderr, which we keep.
    this.child = spawn(program, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      try {
        appendFileSync(this.log, d);
      } catch {
        // its folder is gone: the suite is over, and a last line of sshd's goes unread
      }
    });
    await waitFor(() => canConnect(this.port), `${this.name} listening on ${this.port}`, 10_000, 50);
  }

  /** pids of this sshd's per-connection processes (children of the listener). */
  sessionPids(): number[] {
    if (!this.child?.pid) return [];
    try {
      return execFileSync('ps', ['-o', 'pid=', '--ppid', String(this.child.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((s) => Number(s.trim()))
        .filter((n) => n > 0);
    } catch {
      return [];
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      // 'close', not 'exit': its last stderr lines are in the log before anyone removes the folder.
      const exited = once(child, 'close');
      child.kill('SIGTERM');
      await exited;
    }
    if (this.pamFile) {
      rmSync(this.pamFile, { force: true });
      pamFiles.delete(this.pamFile);
    }
  }
}

async function canConnect(port: number): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}

/** An ssh-agent of our own (not the user's), with keys added by ssh-add. */
export class SshAgent {
  readonly socket: string;
  private pid = 0;

  constructor(readonly dir: string) {
    this.socket = join(dir, 'agent.sock');
  }

  start(): void {
    const out = execFileSync('ssh-agent', ['-s', '-a', this.socket], { encoding: 'utf8' });
    this.pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1] ?? 0);
  }

  add(keyFile: string): void {
    execFileSync('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: this.socket }, stdio: 'ignore' });
  }

  stop(): void {
    if (this.pid) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // gone already
      }
      this.pid = 0;
    }
  }
}

/** A client key pair made with ssh-keygen; `passphrase` makes it encrypted. */
export function makeClientKey(file: string, passphrase = ''): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'tether-test', '-f', file]);
  return file;
}
