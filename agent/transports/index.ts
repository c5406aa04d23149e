import { homedir, userInfo } from 'node:os';
import { AgentError } from '../errors.js';
import { ServerBook } from '../servers/server-book.js';
import type { SshHost } from '../servers/ssh-config.js';
import { OpenSshTransport } from './openssh.js';
import type { RuntimeSource } from './boot-session.js';
import { laptopRuntimes } from '../runtime/runtime-store.js';
import { findSshBinary, openSshOptions, type SshMode } from './ssh-binary.js';
import type { SshPrompter } from './ssh-prompt.js';
import { SshTransport } from './ssh.js';
import type { Transport } from './transport.js';
import { UnixTransport } from './unix.js';
import { WssTransport } from './wss.js';
import { readConfig } from '../config.js';
import { agentPaths } from '../paths.js';

export type { Transport } from './transport.js';

export interface TransportContext {
  /** The agent's home (servers.json). */
  home: string;
  env?: NodeJS.ProcessEnv;
  agentKey: () => Promise<{ publicKey: string; name: string }>;
  notice?: (line: string) => void;
  passphrase?: (file: string) => Promise<string | undefined>;
  /** Whatever an SSH login asks (passphrase, password, one-time code, unknown host key), for a person. */
  prompt?: SshPrompter;
  /** `openssh` (the user's ssh; default where it exists) or `builtin` (ssh2); default from $TETHER_SSH. */
  ssh?: SshMode;
  /** Node runtimes this laptop can bring to servers without Node; default: what the install ships, then the per-user cache. */
  runtime?: RuntimeSource;
  idleExitMs?: number;
  /** The laptop's heartbeat setting, read at each connect (daemons started over SSH use it). */
  heartbeatMs?: () => number | undefined;
}

/**
 * What `--connect` names: `unix:/path`, `ssh://user@host[:port]`, a name added with
 * `tether servers add`, or a Host alias from ~/.ssh/config (any other word: a host name).
 */
export function transportFor(url: string, ctx?: TransportContext): Transport {
  if (url.startsWith('unix:')) {
    const path = url.slice('unix:'.length);
    if (!path.startsWith('/')) throw new AgentError('bad-url', `"${url}": a unix: URL needs an absolute socket path`);
    return new UnixTransport(url, path);
  }
  if (!ctx) throw new AgentError('bad-url', `cannot connect to "${url}" here: only unix:/path/to/tether.sock`);
  const env = ctx.env ?? process.env;
  const homeDir = env.HOME || homedir();
  const book = new ServerBook(ctx.home, { homeDir, localUser: env.USER || safeUser(), env });
  const saved = book.saved().find((s) => s.name === url);
  const target = saved?.url ?? url;
  if (target.startsWith('wss://')) {
    if (!/^wss:\/\/(\[[0-9a-fA-F:.]+\]|[\w.-]+):\d{1,5}\/?$/.test(target)) throw new AgentError('bad-url', `cannot connect to "${url}": a wss URL is wss://host:port`);
    const config = agentPaths(ctx.home).config;
    return new WssTransport(url, target, () => readConfig(config).servers[url]);
  }
  if (!/^(ssh:\/\/)?[\w.@:[\]-]+$/.test(target)) throw new AgentError('bad-url', `cannot connect to "${url}": use a Host from ~/.ssh/config, ssh://user@host[:port], wss://host:port or unix:/path`);
  const mode = sshMode(ctx.ssh ?? env.TETHER_SSH);
  const runtime = ctx.runtime ?? laptopRuntimes({ env });
  const binary = findSshBinary(env);
  if (mode === 'openssh' || (mode === undefined && binary)) {
    if (!binary) throw new AgentError('bad-url', 'no OpenSSH client (`ssh`) on PATH: install it, or use --ssh builtin');
    return new OpenSshTransport({
      serverName: url,
      destination: target,
      sshBinary: binary,
      env,
      runDir: agentPaths(ctx.home).run,
      sshOptions: openSshOptions(binary, target, env),
      inSshConfig: target !== url || book.names(url),
      agentKey: ctx.agentKey,
      prompt: ctx.prompt,
      runtime,
      ...(ctx.idleExitMs !== undefined ? { idleExitMs: ctx.idleExitMs } : {}),
      ...(ctx.heartbeatMs ? { heartbeatMs: ctx.heartbeatMs } : {}),
      ...(ctx.notice ? { notice: ctx.notice } : {}),
    });
  }
  const { target: host, hops } = sshHost(book, target);
  return new SshTransport({
    serverName: url,
    target: host,
    hops,
    auth: {
      homeDir,
      ...(env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}),
      ...(ctx.passphrase ? { passphrase: ctx.passphrase } : {}),
    },
    agentKey: ctx.agentKey,
    runtime,
    ...(ctx.idleExitMs !== undefined ? { idleExitMs: ctx.idleExitMs } : {}),
    ...(ctx.heartbeatMs ? { heartbeatMs: ctx.heartbeatMs } : {}),
    ...(ctx.notice ? { notice: ctx.notice } : {}),
  });
}

function sshMode(value: string | undefined): SshMode | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'openssh' || value === 'builtin') return value;
  throw new AgentError('bad-url', `--ssh ${value.slice(0, 40)}: say openssh or builtin`);
}

/** An alias or `[ssh://]user@host:port`, resolved as ssh resolves it (`ssh -G`), with its ProxyJump hops. */
function sshHost(book: ServerBook, text: string): { target: SshHost; hops: SshHost[] } {
  return book.sshRoute(text);
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
