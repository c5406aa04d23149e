import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientChannel, Client as SshClient, ConnectConfig } from 'ssh2';
import { AgentError } from '../errors.js';
import { knownKeyTypes } from '../servers/known-hosts.js';
import type { SshHost } from '../servers/ssh-config.js';
import { prepareAuth, type AuthReport, type PromptFn } from './ssh2-auth.js';
import { decideHostKey } from './ssh2-host-check.js';
import { refuseUnsupported, ssh2Algorithms } from './ssh2-options.js';
import { ssh2 } from './ssh2-lazy.js';
import { spawnProxyCommand, type ProxyStream } from './proxy-command.js';

export type { PromptFn, PromptRequest } from './ssh2-auth.js';

export interface SshAuthOptions {
  homeDir: string;
  /** ssh-agent socket ($SSH_AUTH_SOCK); tried first unless IdentityAgent says otherwise. */
  agentSocket?: string;
  /** Asked for an encrypted IdentityFile's passphrase; undefined skips that key. */
  passphrase?: (file: string) => Promise<string | undefined>;
  /**
   * Asks the person at the laptop (terminal or tray): passphrases, passwords, one-time codes,
   * other keyboard-interactive questions. Undefined = declined. Without it, nothing is asked.
   */
  prompt?: (req: { kind: 'password' | 'otp' | 'passphrase' | 'text'; text: string; echo: boolean; host: string }) => Promise<string | undefined>;
  /** The environment ProxyCommand runs in and IdentityAgent $VAR reads (default: this process's). */
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

/**
 * Opens SSH to `target` through `hops` (ProxyJump, first hop first): each hop's client
 * carries the next one's TCP stream; the first may run over a ProxyCommand. Every host key
 * is checked before anything is sent to that host. Resolves with every client, target last.
 */
export async function openSshChain(target: SshHost, hops: SshHost[], opts: SshAuthOptions): Promise<SshClient[]> {
  const clients: SshClient[] = [];
  const chain = [...hops, target];
  try {
    let sock: Duplex | undefined;
    for (const [i, host] of chain.entries()) {
      const client = await connectOne(host, sock, opts);
      clients.push(client);
      const next = chain[i + 1];
      if (next) sock = await forwardTcp(client, next.hostName, next.port, host.alias);
    }
    return clients;
  } catch (err) {
    for (const c of clients.reverse()) c.end();
    throw err;
  }
}

async function connectOne(host: SshHost, carried: Duplex | undefined, opts: SshAuthOptions): Promise<SshClient> {
  refuseUnsupported(host);
  const env = opts.env ?? process.env;
  const known = knownKeyTypes({ files: [...host.knownHostsFiles, ...(host.globalKnownHostsFiles ?? [])], hostName: host.hostName, port: host.port, ...(host.hostKeyAlias !== undefined ? { alias: host.hostKeyAlias } : {}) });
  const algorithms = ssh2Algorithms(host, known);
  const { handler, report } = await prepareAuth({
    host,
    env,
    ...(opts.agentSocket ? { agentSocket: opts.agentSocket } : {}),
    ...(opts.prompt ? { prompt: opts.prompt as PromptFn } : {}),
    ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
  });
  // CheckHostIP needs the address connected to: look it up first and connect to that.
  let address: string | undefined;
  if (!carried && host.proxyCommand === undefined && host.checkHostIP) {
    address = isIP(host.hostName) ? host.hostName : (await lookup(host.hostName, { family: host.addressFamily === 'inet6' ? 6 : host.addressFamily === 'inet' ? 4 : 0 }).catch(() => undefined))?.address;
  }
  const proxy: ProxyStream | undefined = !carried && host.proxyCommand !== undefined ? spawnProxyCommand(host.proxyCommand, env) : undefined;
  const sock = carried ?? proxy?.stream;
  const client = new (ssh2().Client)();
  let refusal: AgentError | undefined;
  let verified = false;
  const config: ConnectConfig = {
    host: address ?? host.hostName,
    port: host.port,
    username: host.user,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    // Our own heartbeats watch the link; SSH keepalives catch a dead hop underneath.
    keepaliveInterval: 5000,
    keepaliveCountMax: 3,
    ...(host.addressFamily === 'inet' ? { forceIPv4: true } : host.addressFamily === 'inet6' ? { forceIPv6: true } : {}),
    hostVerifier: (key: Buffer) => {
      try {
        const decision = decideHostKey(host, key, sock ? undefined : address);
        if (!decision.ok) refusal = decision.error;
        else verified = true;
        return decision.ok;
      } catch (err) {
        refusal = err instanceof AgentError ? err : new AgentError('connect-failed', `checking the host key of ${host.alias}: ${(err as Error).message}`);
        return false;
      }
    },
    authHandler: handler,
    ...(sock ? { sock } : {}),
    algorithms: algorithms as ConnectConfig['algorithms'],
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error & { level?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      proxy?.stream.destroy();
      reject(refusal ?? sshError(host, err, verified, report, proxy));
    };
    // Listening for good: ssh2 may emit several errors (a failed login, then the server's
    // disconnect); none may reach the process as an unhandled 'error'.
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'agent') return; // an agent that went away mid-login: ssh2 moves on
      fail(err);
    });
    client.once('close', () => fail(new Error('the connection closed during the handshake')));
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    client.connect(config);
  });
}

function sshError(host: SshHost, err: Error & { level?: string }, verified: boolean, report: AuthReport, proxy?: ProxyStream): AgentError {
  const agent = report.agentUnreachable ? ` (ssh-agent ${report.agentUnreachable} did not answer; key files were tried)` : '';
  if (verified && report.wrongPassphrase.length && (err.level === 'client-authentication' || /authentication/i.test(err.message))) {
    return new AgentError('ssh-auth-failed', `SSH login to ${host.alias} as ${host.user} failed: wrong passphrase for ${report.wrongPassphrase.join(', ')}, and no other key was accepted: connect again and retype it`);
  }
  if (verified && err.level === 'client-authentication') {
    return new AgentError('ssh-auth-failed', `SSH login to ${host.alias} as ${host.user} failed: no key from ssh-agent or IdentityFile was accepted${agent}`);
  }
  if (verified && /authentication/i.test(err.message)) {
    return new AgentError('ssh-auth-failed', `SSH login to ${host.alias} as ${host.user} failed: the server said "${err.message}"${agent}`);
  }
  const why = proxy?.stderr() ? `${err.message} (ProxyCommand: ${proxy.stderr()})` : err.message;
  return new AgentError('connect-failed', `cannot reach ${host.alias} over SSH: ${why}`);
}

function forwardTcp(client: SshClient, host: string, port: number, via: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      if (err) return reject(new AgentError('connect-failed', `${via} could not open a connection to ${host}:${port} (ProxyJump): ${err.message}`));
      stream.on('error', () => {}); // the next hop's client sees the close
      resolve(stream);
    });
  });
}

/** Runs a shell command on the server; its channel carries stdin and stdout, `.stderr` the rest. */
export function sshExecChannel(client: SshClient, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) reject(new AgentError('connect-failed', `cannot run a command over SSH: ${err.message}`));
      else {
        channel.on('error', () => {}); // 'close' follows, and the boot conversation sees it end
        resolve(channel);
      }
    });
  });
}

/** A Duplex to a Unix socket on the server (OpenSSH's direct-streamlocal). */
export function forwardUnix(client: SshClient, socketPath: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
      if (err) return reject(new AgentError('connect-failed', `the server refused a forward to ${socketPath} (AllowStreamLocalForwarding?): ${err.message}`));
      stream.on('error', () => {}); // the WebSocket over it sees the close
      resolve(stream);
    });
  });
}
