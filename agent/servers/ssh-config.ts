import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';

/** One `Keyword value…` line, in file order, with the Host patterns it sits under. */
interface Directive {
  keyword: string;
  args: string[];
  /** Host patterns of the enclosing block; undefined = before any Host (applies to all). */
  hosts: string[] | undefined;
  /** Inside a Match block: we do not evaluate Match, so these never apply. */
  match: boolean;
}

export interface SshConfigFile {
  directives: Directive[];
  /** Files read, in order (the main one, then every Include). */
  files: string[];
}

/** What `ssh ALIAS` would use, for the options Tether cares about. */
export interface SshHost {
  alias: string;
  hostName: string;
  user: string;
  port: number;
  identityFiles: string[];
  /** Hops as written (`user@host:port`, aliases allowed), first hop first. */
  proxyJump: string[];
  setEnv: Record<string, string>;
  knownHostsFiles: string[];
  /** Whether the host was named by a Host block (not only matched by `*`). */
  configured: boolean;
}

export interface ResolveOptions {
  homeDir: string;
  localUser: string;
}

const MAX_INCLUDE_DEPTH = 16;

/** Reads ~/.ssh/config and everything it Includes; a missing file is an empty config. */
export function readSshConfig(file: string, homeDir: string): SshConfigFile {
  const config: SshConfigFile = { directives: [], files: [] };
  parseFile(file, homeDir, config, undefined, false, 0);
  return config;
}

function parseFile(file: string, homeDir: string, out: SshConfigFile, hosts: string[] | undefined, match: boolean, depth: number): void {
  if (depth > MAX_INCLUDE_DEPTH || !existsSync(file)) return;
  out.files.push(file);
  let currentHosts = hosts;
  let inMatch = match;
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const words = splitLine(raw);
    if (!words.length) continue;
    const keyword = words[0]!.toLowerCase();
    const args = words.slice(1);
    if (keyword === 'host') {
      currentHosts = args;
      inMatch = false;
      continue;
    }
    if (keyword === 'match') {
      // `Match all` applies everywhere; other Match criteria are not evaluated (never apply).
      inMatch = !(args.length === 1 && args[0]!.toLowerCase() === 'all');
      currentHosts = undefined;
      continue;
    }
    if (keyword === 'include') {
      for (const pattern of args) {
        for (const included of expandInclude(pattern, homeDir)) parseFile(included, homeDir, out, currentHosts, inMatch, depth + 1);
      }
      continue;
    }
    out.directives.push({ keyword, args, hosts: currentHosts, match: inMatch });
  }
}

/** `Keyword value`, `Keyword=value`, double quotes group words, `#` starts a comment. */
export function splitLine(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  const text = line.trim().replace(/^(\S+?)\s*=\s*/, '$1 ');
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && ch === '#' && !started && current === '') {
      break;
    } else if (!quoted && /\s/.test(ch)) {
      if (started) words.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) words.push(current);
  return words;
}

/** Relative Include paths are relative to ~/.ssh; `*` and `?` in the last part are globbed. */
function expandInclude(pattern: string, homeDir: string): string[] {
  let path = expandTilde(pattern, homeDir);
  if (!isAbsolute(path)) path = join(homeDir, '.ssh', path);
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  const dir = dirname(path);
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const re = globToRegExp(name);
  return entries.filter((e) => re.test(e)).map((e) => join(dir, e));
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** ssh_config Host patterns: any positive pattern matches and no `!pattern` does. */
export function hostMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(host)) return false;
    } else if (globToRegExp(p).test(host)) {
      matched = true;
    }
  }
  return matched;
}

export function expandTilde(path: string, homeDir: string): string {
  if (path === '~') return homeDir;
  if (path.startsWith('~/')) return join(homeDir, path.slice(2));
  return path;
}

/** Resolves ALIAS the way ssh does: for each option the first value found wins. */
export function resolveHost(config: SshConfigFile, alias: string, opts: ResolveOptions): SshHost {
  const first = new Map<string, string[]>();
  const identityFiles: string[] = [];
  const setEnv: Record<string, string> = {};
  let configured = false;
  for (const d of config.directives) {
    if (d.match) continue;
    if (d.hosts !== undefined && !hostMatches(d.hosts, alias)) continue;
    if (d.hosts?.some((p) => !p.startsWith('!') && !/[*?]/.test(p))) configured = true;
    if (d.keyword === 'identityfile') identityFiles.push(...d.args);
    else if (d.keyword === 'setenv') {
      for (const pair of d.args) {
        const eq = pair.indexOf('=');
        if (eq > 0 && !(pair.slice(0, eq) in setEnv)) setEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
    } else if (!first.has(d.keyword)) first.set(d.keyword, d.args);
  }
  const get = (k: string) => first.get(k)?.[0];
  const rawHost = get('hostname') ?? alias;
  const hostName = rawHost.replace(/%h/g, alias).replace(/%%/g, '%');
  const user = get('user') ?? opts.localUser;
  const port = Number(get('port') ?? 22);
  const tokens = (s: string) =>
    expandTilde(s, opts.homeDir)
      .replace(/%d/g, opts.homeDir)
      .replace(/%u/g, opts.localUser)
      .replace(/%r/g, user)
      .replace(/%h/g, hostName)
      .replace(/%p/g, String(port))
      .replace(/%%/g, '%');
  const jump = get('proxyjump');
  const knownHosts = first.get('userknownhostsfile');
  return {
    alias,
    hostName,
    user,
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 22,
    identityFiles: identityFiles.filter((f) => f.toLowerCase() !== 'none').map(tokens),
    proxyJump: jump && jump.toLowerCase() !== 'none' ? jump.split(',').map((s) => s.trim()).filter(Boolean) : [],
    setEnv,
    knownHostsFiles: knownHosts && knownHosts[0]?.toLowerCase() !== 'none' ? knownHosts.map(tokens) : [join(opts.homeDir, '.ssh', 'known_hosts')],
    configured,
  };
}

/** Host aliases a person wrote (no wildcards, no negations), in file order, once each. */
export function listHostAliases(config: SshConfigFile): string[] {
  const seen = new Set<string>();
  for (const d of config.directives) {
    for (const p of d.hosts ?? []) if (!p.startsWith('!') && !/[*?]/.test(p)) seen.add(p);
  }
  return [...seen];
}

/** `user@host:port` or `ssh://user@host:port` (a ProxyJump hop or a `servers add` target). */
export function parseHop(text: string): { user?: string; host: string; port?: number } {
  const s = text.replace(/^ssh:\/\//, '').replace(/\/$/, '');
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : undefined;
  let host = at >= 0 ? s.slice(at + 1) : s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const colon = /^([^:]+):(\d+)$/.exec(host);
    if (colon) {
      host = colon[1]!;
      port = Number(colon[2]);
    }
  }
  return { ...(user ? { user } : {}), host, ...(port ? { port } : {}) };
}
