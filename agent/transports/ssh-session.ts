import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AuthenticationType, ClientChannel, Client as SshClient, ConnectConfig, NextAuthHandler } from 'ssh2';
import { AgentError } from '../errors.js';
import { knownKeyTypes, verifyHostKey, type HostKeyVerdict } from '../servers/known-hosts.js';
import type { SshHost } from '../servers/ssh-config.js';
import { HostKeyUnknownError } from '../servers/host-key-trust.js';

const { Client, utils } = ssh2;

export interface SshAuthOptions {
  homeDir: string;
  /** ssh-agent socket ($SSH_AUTH_SOCK); tried first. */
  agentSocket?: string;
  /** Asked for an encrypted IdentityFile's passphrase; undefined skips that key. */
  passphrase?: (file: string) => Promise<string | undefined>;
  readyTimeoutMs?: number;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * Encrypted IdentityFiles unlocked in this process, by path and mtime: a reconnect (after a
 * network loss, a wake) must not ask again, as ssh-agent would not. Memory only, never logged.
 */
const unlocked = new Map<string, { mtimeMs: number; key: unknown }>();

/**
 * Opens SSH to `target` through `hops` (ProxyJump, first hop first): each hop's client
 * carries the next one's TCP stream. Every host key is checked against known_hosts before
 * anything is sent to that host. Resolves with every client, target last.
 */
export async function openSshChain(target: SshHost, hops: SshHost[], opts: SshAuthOptions): Promise<SshClient[]> {
  const clients: SshClient[] = [];
  try {
    let sock: Duplex | undefined;
    for (const host of [...hops, target]) {
      const client = await connectOne(host, sock, opts);
      clients.push(client);
      const next = [...hops, target][clients.length];
      if (next) sock = await forwardTcp(client, next.hostName, next.port, host.alias);
    }
    return clients;
  } catch (err) {
    for (const c of clients.reverse()) c.end();
    throw err;
  }
}

function connectOne(host: SshHost, sock: Duplex | undefined, opts: SshAuthOptions): Promise<SshClient> {
  const client = new Client();
  let verdict: HostKeyVerdict | undefined;
  let presented: Buffer | undefined;
  /** Keys whose typed passphrase did not decrypt them: named in the error if no other key gets in. */
  const wrongPassphrase: string[] = [];
  const known = knownKeyTypes(host.knownHostsFiles, host.hostName, host.port);
  const config: ConnectConfig = {
    host: host.hostName,
    port: host.port,
    username: host.user,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    // Our own heartbeats watch the link; SSH keepalives catch a dead hop underneath.
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    hostVerifier: (key: Buffer) => {
      verdict = verifyHostKey(host.knownHostsFiles, host.hostName, host.port, key);
      presented = key;
      return verdict.state === 'known';
    },
    authHandler: authSequence(host, opts, wrongPassphrase),
    ...(sock ? { sock } : {}),
    // Ask first for a key type known_hosts holds, so a host with several keys is checked against the one we know.
    ...(known.length ? { algorithms: { serverHostKey: { prepend: hostKeyAlgorithms(known) } } } : {}),
  } as ConnectConfig;
  return new Promise((resolve, reject) => {
    client.once('ready', () => {
      client.removeAllListeners('error');
      client.on('error', () => {}); // 'close' follows; the transport watches that
      resolve(client);
    });
    client.once('error', (err: Error & { level?: string }) => {
      client.end();
      reject(sshError(host, err, verdict, presented, wrongPassphrase));
    });
    client.connect(config);
  });
}

function hostKeyAlgorithms(keyTypes: string[]): string[] {
  return keyTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
}

function sshError(host: SshHost, err: Error & { level?: string }, verdict: HostKeyVerdict | undefined, key: Buffer | undefined, wrongPassphrase: string[] = []): AgentError {
  const where = host.port === 22 ? host.hostName : `[${host.hostName}]:${host.port}`;
  if (verdict?.state === 'unknown' && key) {
    // The key travels with the error so the tray can offer trust on first use.
    const presented = { alias: host.alias, host: host.hostName, port: host.port, keyType: verdict.keyType, key, fingerprint: verdict.fingerprint, knownHostsFile: host.knownHostsFiles[0] ?? '' };
    return new HostKeyUnknownError(
      presented,
      `unknown host key for ${host.alias} (${where}): ${verdict.keyType} ${verdict.fingerprint}; if that is the server's key, run \`ssh ${host.alias}\` once to add it to known_hosts, then connect again`,
    );
  }
  if (verdict?.state === 'changed' || verdict?.state === 'revoked') {
    return new AgentError(
      'host-key-changed',
      `HOST KEY ${verdict.state === 'revoked' ? 'REVOKED' : 'CHANGED'} for ${host.alias} (${where}): it now presents ${verdict.keyType} ${verdict.fingerprint}, which ${verdict.file}:${verdict.line} does not allow; someone may be intercepting the connection: not connecting (if the server was reinstalled, fix that line)`,
    );
  }
  if (err.level === 'client-authentication' && wrongPassphrase.length) {
    return new AgentError('ssh-auth-failed', `SSH login to ${host.alias} as ${host.user} failed: wrong passphrase for ${wrongPassphrase.join(', ')}, and no other key was accepted: connect again and retype it`);
  }
  if (err.level === 'client-authentication') {
    return new AgentError('ssh-auth-failed', `SSH login to ${host.alias} as ${host.user} failed: no key from ssh-agent or IdentityFile was accepted`);
  }
  return new AgentError('connect-failed', `cannot reach ${host.alias} over SSH: ${err.message}`);
}

/** ssh's order: every ssh-agent key, then each IdentityFile (or the default key files). */
function authSequence(host: SshHost, opts: SshAuthOptions, wrongPassphrase: string[]) {
  const files = host.identityFiles.length ? host.identityFiles : DEFAULT_KEYS.map((k) => join(opts.homeDir, '.ssh', k));
  const steps: (() => Promise<unknown>)[] = [];
  if (opts.agentSocket) steps.push(async () => ({ type: 'agent', username: host.user, agent: opts.agentSocket }));
  for (const file of files) steps.push(() => keyMethod(host.user, file, opts, wrongPassphrase));
  let i = 0;
  return (_left: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
    const tryNext = (): void => {
      const step = steps[i++];
      if (!step) return next(false as never);
      step().then(
        (method) => (method ? next(method as never) : tryNext()),
        () => tryNext(),
      );
    };
    tryNext();
  };
}

async function keyMethod(username: string, file: string, opts: SshAuthOptions, wrongPassphrase: string[]): Promise<unknown> {
  if (!existsSync(file)) return undefined;
  const mtimeMs = statSync(file).mtimeMs;
  const cached = unlocked.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return { type: 'publickey', username, key: cached.key };
  const data = readFileSync(file);
  let parsed = utils.parseKey(data);
  if (parsed instanceof Error && /passphrase|encrypted/i.test(parsed.message)) {
    const passphrase = await opts.passphrase?.(file);
    if (passphrase === undefined) return undefined;
    parsed = utils.parseKey(data, passphrase);
    if (parsed instanceof Error) {
      wrongPassphrase.push(file);
      return undefined;
    }
    unlocked.set(file, { mtimeMs, key: Array.isArray(parsed) ? parsed[0] : parsed });
  }
  if (parsed instanceof Error) return undefined;
  return { type: 'publickey', username, key: Array.isArray(parsed) ? parsed[0] : parsed };
}

function forwardTcp(client: SshClient, host: string, port: number, via: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (err) reject(new AgentError('connect-failed', `${via} could not open a connection to ${host}:${port} (ProxyJump): ${err.message}`));
      else resolve(stream);
    });
  });
}

/** Runs a shell command on the server; its channel carries stdin and stdout, `.stderr` the rest. */
export function sshExecChannel(client: SshClient, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) reject(new AgentError('connect-failed', `cannot run a command over SSH: ${err.message}`));
      else resolve(channel);
    });
  });
}

/** A Duplex to a Unix socket on the server (OpenSSH's direct-streamlocal). */
export function forwardUnix(client: SshClient, socketPath: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
      if (err) reject(new AgentError('connect-failed', `the server refused a forward to ${socketPath} (AllowStreamLocalForwarding?): ${err.message}`));
      else resolve(stream);
    });
  });
}
