// Which host, user, port, keys and hops `ssh NAME` would use. With an OpenSSH client on the
// laptop the answer is OpenSSH's own (`ssh -G`: Match, Include, tokens, canonicalization exactly
// as ssh evaluates them); without one, Tether's parser (ssh-config.ts) answers.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { AgentError } from '../errors.js';
import { configFileTree, listHostAliases, parseHop, rawOption, resolveWithParser, type CommandLine, type ParserContext } from './ssh-config.js';
import { hostFromOptions, sshChildEnv, type HostContext, type SshHost, type SshOptions } from './ssh-host.js';

export interface ResolveContext {
  env: Record<string, string | undefined>;
  /** The laptop's home ($HOME): `~`, ~/.ssh/config, default known_hosts. */
  homeDir: string;
  localUser: string;
}

/** The OpenSSH client to ask: $TETHER_SSH_BINARY (`none`: ask none), else `ssh` on PATH. */
export function sshBinary(env: Record<string, string | undefined>): string | undefined {
  const named = env.TETHER_SSH_BINARY;
  if (named !== undefined) return named === '' || named === 'none' ? undefined : named;
  const exe = process.platform === 'win32' ? 'ssh.exe' : 'ssh';
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, exe);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function passwdHome(): string | undefined {
  try {
    return userInfo().homedir;
  } catch {
    return undefined;
  }
}

/**
 * The config file to name with `ssh -F`: none when $HOME is the account's home (ssh then reads
 * ~/.ssh/config and the system file itself). When $HOME points elsewhere (tests, odd setups),
 * OpenSSH would still read the passwd entry's ~/.ssh; Tether means $HOME, so it says so.
 */
export function explicitConfigFile(ctx: ResolveContext): string | undefined {
  if (passwdHome() === ctx.homeDir) return undefined;
  return join(ctx.homeDir, '.ssh', 'config');
}

function hostContext(ctx: ResolveContext): HostContext {
  return { homeDir: ctx.homeDir, localUser: ctx.localUser, env: ctx.env, uid: process.getuid?.() ?? 0, thisHost: hostname() };
}

function parserContext(ctx: ResolveContext): ParserContext {
  const configFile = explicitConfigFile(ctx);
  return { ...hostContext(ctx), ...(configFile ? { configFile } : {}) };
}

/** Arguments that make `ssh` read the same config Tether reads (`-F FILE`, or `-F none` when that file is missing). */
export function sshConfigArgs(ctx: ResolveContext): string[] {
  const file = explicitConfigFile(ctx);
  if (!file) return [];
  return ['-F', existsSync(file) ? file : 'none'];
}

/** `ssh -G` output: `keyword value…` lines; repeatable keywords keep every value. */
export function parseSshG(text: string): SshOptions {
  const one = new Map<string, string>();
  const all = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s?(.*)$/.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    all.set(key, [...(all.get(key) ?? []), m[2]!]);
    if (!one.has(key)) one.set(key, m[2]!);
  }
  return { one: (k) => one.get(k), all: (k) => all.get(k) ?? [] };
}

function runSshG(binary: string, args: string[], env: Record<string, string | undefined>): string {
  try {
    return execFileSync(binary, ['-G', ...args], { env: sshChildEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, maxBuffer: 4 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; code?: string; message: string };
    if (e.code === 'ENOENT') throw new AgentError('bad-config', `${binary} (the OpenSSH client) is not there: fix TETHER_SSH_BINARY or PATH`);
    const why = (e.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !/^Pseudo-terminal/.test(l)).join('; ') || e.message;
    throw new AgentError('bad-config', `ssh -G ${args.at(-1)}: ${why.slice(0, 400)}`);
  }
}

const defaultHostKeyAlgorithms = new Map<string, string>();

/**
 * Whether ssh uses HostKeyAlgorithms exactly as listed (sshconnect2.c: a list the user wrote)
 * or first moves the types known_hosts holds for the host to the front (unset, `+…`, `-…`).
 * ssh -G prints the expanded list either way, so the config files decide; when unsure,
 * verbatim, which can only refuse more.
 */
function hostKeyAlgorithmsVerbatim(binary: string, printed: string | undefined, hostArg: string, cmd: CommandLine, ctx: ResolveContext): boolean {
  const lines = configFileTree(parserContext(ctx), true)
    .flatMap((f) => f.lines)
    .filter((l) => l.keyword === 'hostkeyalgorithms');
  let raw: string | undefined;
  if (lines.length) {
    try {
      raw = rawOption(hostArg, cmd, parserContext(ctx), 'hostkeyalgorithms');
    } catch {
      return true; // the config says something Tether's reader cannot evaluate: keep ssh's list as it is
    }
    if (raw !== undefined) return !/^[+-]/.test(raw);
  }
  if (!defaultHostKeyAlgorithms.has(binary)) defaultHostKeyAlgorithms.set(binary, parseSshG(runSshG(binary, ['-F', 'none', 'tether.invalid'], ctx.env)).one('hostkeyalgorithms') ?? '');
  return printed !== defaultHostKeyAlgorithms.get(binary);
}

/**
 * What `ssh [-l user] [-p port] [-J jump] HOST` would use: `text` is a Host alias, a host name,
 * or `[ssh://]user@host[:port]`.
 */
export function resolveSshHost(text: string, ctx: ResolveContext, cmdline: CommandLine = {}): SshHost {
  const hop = parseHop(text);
  const cmd: CommandLine = { ...cmdline, ...(hop.user ? { user: hop.user } : {}), ...(hop.port ? { port: hop.port } : {}) };
  if (!hop.host || hop.host.startsWith('-')) throw new AgentError('bad-url', `"${text}" is not a host name`);
  const binary = sshBinary(ctx.env);
  if (!binary) return resolveWithParser(hop.host, cmd, parserContext(ctx));
  const args = [...sshConfigArgs(ctx), ...(cmd.user ? ['-l', cmd.user] : []), ...(cmd.port ? ['-p', String(cmd.port)] : []), ...(cmd.jump ? ['-J', cmd.jump] : []), hop.host];
  const printed = parseSshG(runSshG(binary, args, ctx.env));
  const home = passwdHome();
  const options: SshOptions =
    home && home !== ctx.homeDir
      ? {
          // ssh fills the default known_hosts from the passwd entry's home; Tether's is $HOME.
          one: (k) => {
            const v = printed.one(k);
            if (k === 'userknownhostsfile' && v === `${home}/.ssh/known_hosts ${home}/.ssh/known_hosts2`) return `${ctx.homeDir}/.ssh/known_hosts ${ctx.homeDir}/.ssh/known_hosts2`;
            return v;
          },
          all: printed.all,
        }
      : printed;
  const host = hostFromOptions(options, hostContext(ctx), { configured: listHostAliases(parserContext(ctx)).includes(hop.host), resolvedBy: 'ssh -G' });
  return hostKeyAlgorithmsVerbatim(binary, printed.one('hostkeyalgorithms'), hop.host, cmd, ctx) ? { ...host, hostKeyAlgorithmsVerbatim: true } : host;
}

/**
 * The target and the hosts in front of it, first hop first, as ssh builds them: `ProxyJump
 * a,b` reaches b through a (`ssh -J a b`, so b's own ProxyJump is overridden), and a single hop
 * is itself resolved with its own ProxyJump or ProxyCommand.
 */
export function resolveSshRoute(text: string, ctx: ResolveContext): { target: SshHost; hops: SshHost[] } {
  const target = resolveSshHost(text, ctx);
  const hops: SshHost[] = [];
  let current = target;
  while (current.proxyJump.length) {
    if (hops.length >= 8) throw new AgentError('bad-config', `ProxyJump for ${target.alias} goes through more than 8 hosts: is there a loop?`);
    const last = current.proxyJump.at(-1)!;
    const rest = current.proxyJump.slice(0, -1);
    const hop = parseHop(last);
    if (hop.host === current.hostName && (hop.port ?? 22) === current.port && (hop.user ?? current.user) === current.user) {
      throw new AgentError('bad-config', `ProxyJump loop: ${current.alias} jumps through itself (${last})`);
    }
    const next = resolveSshHost(hop.host, ctx, { ...(hop.user ? { user: hop.user } : {}), ...(hop.port ? { port: hop.port } : {}), ...(rest.length ? { jump: rest.join(',') } : {}) });
    hops.unshift(next);
    current = next;
  }
  return { target, hops };
}
