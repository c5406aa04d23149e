// Tether's own ssh_config reader, for laptops without OpenSSH (with it, `ssh -G` answers:
// ssh-resolve.ts). It follows readconf.c: lines are evaluated in order, the first value of an
// option wins, Host and Match switch lines on and off, an Include inside a block is read only
// when that block applies, `Match final`/canonicalization re-read the files once more. What it
// cannot evaluate (an unknown Match criterion, DNS canonicalization) is refused in one line.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { AgentError } from '../errors.js';
import { assembleAlgorithms, OPENSSH_ALGORITHMS } from './openssh-algorithms.js';
import { DEFAULT_IDENTITY_FILES, hostFromOptions, sshChildEnv, type HostContext, type SshHost, type SshOptions } from './ssh-host.js';
import { matchHostname, matchPattern, matchPatternList } from './ssh-patterns.js';
import { clientTokens, expandTilde, expandTokens } from './ssh-tokens.js';

export type { SshHost } from './ssh-host.js';
export { expandTilde } from './ssh-tokens.js';

export interface ParserContext extends HostContext {
  /** `ssh -F FILE`: only this file. Otherwise ~/.ssh/config, then the system's. */
  configFile?: string;
  systemConfig?: string;
}

/** What the command line sets before any config file (it wins): -l, -p, -J. */
export interface CommandLine {
  user?: string;
  port?: number;
  jump?: string;
}

const MAX_INCLUDE_DEPTH = 16;
/** Repeatable keywords: every applying line adds to the list. */
const REPEATED = new Set(['identityfile', 'certificatefile']);
/** Keywords whose value is the raw rest of the line (a command), not words. */
const COMMANDS = new Set(['proxycommand', 'knownhostscommand', 'localcommand', 'remotecommand']);
/** Keywords whose words are all kept (space-separated lists). */
const WORD_LISTS = new Set(['userknownhostsfile', 'globalknownhostsfile', 'canonicaldomains', 'revokedhostkeys', 'sendenv']);

export interface Line {
  keyword: string;
  args: string[];
  rest: string;
}

/** readconf.c's line split: keyword, then argv_split() of the rest (quotes, `\` escapes, `#` comments). */
export function parseLine(raw: string): Line | undefined {
  const m = /^[ \t]*([^ \t=]+)[ \t]*=?[ \t]*(.*?)[ \t\r\f]*$/.exec(raw);
  if (!m || m[1]!.startsWith('#')) return undefined;
  return { keyword: m[1]!.toLowerCase(), args: splitArgs(m[2]!), rest: m[2]! };
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') {
      i++;
      continue;
    }
    if (s[i] === '#') break;
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\' && (s[i + 1] === "'" || s[i + 1] === '"' || s[i + 1] === '\\' || (!quote && s[i + 1] === ' '))) arg += s[++i];
      else if (!quote && (ch === ' ' || ch === '\t')) break;
      else if (!quote && (ch === '"' || ch === "'")) quote = ch;
      else if (quote && ch === quote) quote = '';
      else arg += ch;
    }
    if (quote) throw new AgentError('bad-config', `ssh config: unbalanced quotes in "${s}"`);
    out.push(arg);
  }
  return out;
}

/** Include paths: relative ones live in ~/.ssh (user files) or /etc/ssh (system); `*?` glob the last part. */
function includeFiles(pattern: string, user: boolean, homeDir: string): string[] {
  let path = expandTilde(pattern, homeDir);
  if (!isAbsolute(path)) path = user ? join(homeDir, '.ssh', path) : join('/etc/ssh', path);
  const name = basename(path);
  if (!/[*?[]/.test(name)) return [path];
  let entries: string[];
  try {
    entries = readdirSync(dirname(path)).sort();
  } catch {
    return [];
  }
  return entries.filter((e) => !e.startsWith('.') && matchPattern(e, name)).map((e) => join(dirname(path), e));
}

function readLines(file: string): string[] | undefined {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

function configFiles(ctx: ParserContext): { file: string; user: boolean }[] {
  if (ctx.configFile) return [{ file: ctx.configFile, user: true }];
  return [
    { file: join(ctx.homeDir, '.ssh', 'config'), user: true },
    { file: ctx.systemConfig ?? '/etc/ssh/ssh_config', user: false },
  ];
}

const isAddress = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');

/** ssh canonicalizes an address always (resolve_addr, no DNS): 127.1 is 127.0.0.1. */
function canonicalAddress(h: string): string {
  if (h.includes(':')) return h.toLowerCase();
  try {
    return new URL(`http://${h}/`).hostname;
  } catch {
    return h;
  }
}

/** One resolution of a host: the options set so far (first wins) and how to read more. */
class Evaluation {
  readonly values = new Map<string, string>();
  readonly repeated = new Map<string, string[]>();
  wantFinal = false;
  private final = false;
  private host = '';

  constructor(
    readonly hostArg: string,
    readonly ctx: ParserContext,
    cmd: CommandLine,
  ) {
    if (cmd.user) this.values.set('user', cmd.user);
    if (cmd.port) this.values.set('port', String(cmd.port));
    if (cmd.jump) this.values.set('proxyjump', cmd.jump);
  }

  pass(host: string, final: boolean): void {
    this.host = host;
    this.final = final;
    for (const { file, user } of configFiles(this.ctx)) this.readFile(file, user, false, { on: true }, 0);
  }

  private readFile(file: string, user: boolean, neverMatch: boolean, active: { on: boolean }, depth: number): void {
    if (depth > MAX_INCLUDE_DEPTH) throw new AgentError('bad-config', `${file}: too many nested Includes`);
    const lines = readLines(file);
    if (!lines) return;
    lines.forEach((raw, i) => {
      const line = parseLine(raw);
      if (!line) return;
      const where = `${file} line ${i + 1}`;
      if (line.keyword === 'host') active.on = !neverMatch && this.hostLineMatches(line.args);
      else if (line.keyword === 'match') active.on = !neverMatch && this.matchLine(line.args, where);
      else if (line.keyword === 'include') {
        const outer = active.on;
        for (const pattern of line.args) {
          for (const included of includeFiles(pattern, user, this.ctx.homeDir)) {
            this.readFile(included, user, neverMatch || !outer, active, depth + 1);
            active.on = outer; // a Match inside an Include does not leak out of it
          }
        }
      } else if (active.on) this.set(line);
    });
  }

  private hostLineMatches(patterns: string[]): boolean {
    let on = false;
    for (const p of patterns) {
      const negated = p.startsWith('!');
      if (matchPattern(this.host, negated ? p.slice(1) : p)) {
        if (negated) return false;
        on = true;
      }
    }
    return on;
  }

  /** readconf.c match_cfg_line(). */
  private matchLine(args: string[], where: string): boolean {
    const hostName = this.values.get('hostname');
    const host = this.final ? (hostName ?? this.host) : hostName !== undefined ? expandTokens(hostName, { h: this.hostArg }) : this.hostArg;
    const ruser = this.values.get('user') ?? this.ctx.localUser;
    let result = true;
    let attributes = 0;
    for (let i = 0; i < args.length; i++) {
      const negate = args[i]!.startsWith('!');
      const attrib = (negate ? args[i]!.slice(1) : args[i]!).toLowerCase();
      if (attrib === 'all') {
        if (attributes > 0 || i < args.length - 1) throw new AgentError('bad-config', `${where}: Match all cannot be combined with other criteria`);
        return result && !negate;
      }
      attributes++;
      if (attrib === 'canonical' || attrib === 'final') {
        if (attrib === 'final') this.wantFinal = true;
        if (this.final === negate) result = false;
        continue;
      }
      const arg = args[++i];
      if (arg === undefined) throw new AgentError('bad-config', `${where}: Match ${attrib} needs an argument`);
      let r: boolean;
      if (attrib === 'host') r = matchHostname(host, arg) === 1;
      else if (attrib === 'originalhost') r = matchHostname(this.hostArg, arg) === 1;
      else if (attrib === 'user') r = matchPatternList(ruser, arg, false) === 1;
      else if (attrib === 'localuser') r = matchPatternList(this.ctx.localUser, arg, false) === 1;
      else if (attrib === 'exec') {
        if (!result) continue; // ssh skips the command once the line cannot match
        r = this.exec(arg, host, ruser);
      } else {
        throw new AgentError('ssh-option-unsupported', `${where}: Match ${attrib} cannot be evaluated without OpenSSH (install an ssh client so Tether can ask \`ssh -G\`, or rewrite that Match)`);
      }
      if (r === negate) result = false;
    }
    if (!attributes) throw new AgentError('bad-config', `${where}: Match needs a criterion`);
    return result;
  }

  private exec(command: string, host: string, ruser: string): boolean {
    const port = Number(this.values.get('port') ?? 22);
    const alias = this.values.get('hostkeyalias');
    const tokens = clientTokens({ hostArg: this.hostArg, hostName: host, port, user: ruser, localUser: this.ctx.localUser, homeDir: this.ctx.homeDir, uid: this.ctx.uid, thisHost: this.ctx.thisHost, ...(alias ? { hostKeyAlias: alias } : {}) });
    const shell = this.ctx.env.SHELL || '/bin/sh';
    const r = spawnSync(shell, ['-c', expandTokens(command, tokens, undefined, 'Match exec')], { env: sshChildEnv(this.ctx.env), stdio: 'ignore', timeout: 30_000 });
    return r.status === 0;
  }

  private set(line: Line): void {
    const { keyword, args } = line;
    if (!args.length && !line.rest) return;
    if (REPEATED.has(keyword)) {
      this.repeated.set(keyword, [...(this.repeated.get(keyword) ?? []), args[0] ?? '']);
    } else if (keyword === 'setenv') {
      // Only the first applying SetEnv line counts (readconf.c); a name appears once.
      if (this.repeated.has('setenv')) return;
      const seen = new Set<string>();
      this.repeated.set('setenv', args.filter((a) => a.includes('=') && !seen.has(a.split('=')[0]!) && seen.add(a.split('=')[0]!)));
    } else if (keyword === 'proxycommand' || keyword === 'proxyjump') {
      // One slot: whichever of ProxyCommand / ProxyJump comes first wins.
      if (this.values.has('proxycommand') || this.values.has('proxyjump')) return;
      this.values.set(keyword, keyword === 'proxycommand' ? line.rest : args[0]!);
    } else if (!this.values.has(keyword)) {
      this.values.set(keyword, COMMANDS.has(keyword) ? line.rest : WORD_LISTS.has(keyword) ? args.join(' ') : args[0]!);
    }
  }
}

/** Both passes of ssh.c main() over the config files: the options as set, before defaults. */
function evaluate(hostArg: string, cmd: CommandLine, ctx: ParserContext): { ev: Evaluation; host: string } {
  const ev = new Evaluation(hostArg, ctx, cmd);
  ev.pass(hostArg, false);
  const v = ev.values;
  let host = v.has('hostname') ? expandTokens(v.get('hostname')!, { h: hostArg }) : hostArg;
  if (!isAddress(host)) host = host.toLowerCase();
  else host = canonicalAddress(host);
  const canonicalize = (v.get('canonicalizehostname') ?? 'no').toLowerCase();
  const direct = !v.has('proxyjump') && (!v.has('proxycommand') || v.get('proxycommand')!.toLowerCase() === 'none');
  if (canonicalize === 'always' || (/^(yes|true)$/.test(canonicalize) && direct)) {
    throw new AgentError('ssh-option-unsupported', `CanonicalizeHostname for ${hostArg}: Tether's own ssh_config reader does not look names up in DNS (install OpenSSH so Tether can ask \`ssh -G\`)`);
  }
  if (canonicalize !== 'no' && canonicalize !== 'false') ev.wantFinal = true;
  if (ev.wantFinal) {
    v.set('hostname', host);
    ev.pass(host, true);
  }
  return { ev, host };
}

/** The value an option has for this host as written (`+…`, a list, …), or undefined when no line sets it. */
export function rawOption(hostArg: string, cmd: CommandLine, ctx: ParserContext, keyword: string): string | undefined {
  return evaluate(hostArg, cmd, ctx).ev.values.get(keyword);
}

/** Resolves `hostArg` as ssh would (ssh.c main: two passes, defaults, the expansions done before -G prints). */
export function resolveWithParser(hostArg: string, cmd: CommandLine, ctx: ParserContext): SshHost {
  const { ev, host } = evaluate(hostArg, cmd, ctx);
  const v = ev.values;
  v.set('host', hostArg);
  v.set('hostname', host);
  v.set('user', v.get('user') ?? ctx.localUser);
  v.set('port', v.get('port') ?? '22');
  if (v.has('hostkeyalias')) v.set('hostkeyalias', v.get('hostkeyalias')!.toLowerCase());
  if (!ev.repeated.get('identityfile')?.length) ev.repeated.set('identityfile', DEFAULT_IDENTITY_FILES);
  const verbatimHostKeys = v.has('hostkeyalgorithms') && !/^[+-]/.test(v.get('hostkeyalgorithms')!);
  for (const keyword of Object.keys(OPENSSH_ALGORITHMS)) {
    const list = assembleAlgorithms(keyword, v.get(keyword));
    if (!list) throw new AgentError('bad-config', `${keyword} "${v.get(keyword)}" for ${hostArg} names no algorithm OpenSSH knows`);
    v.set(keyword, list.join(','));
  }
  // What ssh expands before `ssh -G` prints: known_hosts files, IdentityAgent, RevokedHostKeys.
  const tokens = clientTokens({ hostArg, hostName: host, port: Number(v.get('port')), user: v.get('user')!, localUser: ctx.localUser, homeDir: ctx.homeDir, uid: ctx.uid, thisHost: ctx.thisHost, ...(v.has('hostkeyalias') ? { hostKeyAlias: v.get('hostkeyalias')! } : {}) });
  const expandPath = (p: string) => expandTokens(expandTilde(p, ctx.homeDir), tokens, ctx.env, `path ${p}`);
  const expandList = (key: string, dflt?: string) => {
    const value = v.get(key) ?? dflt;
    if (value === undefined) return;
    v.set(key, value.toLowerCase() === 'none' ? 'none' : value.split(' ').map(expandPath).join(' '));
  };
  expandList('userknownhostsfile', '~/.ssh/known_hosts ~/.ssh/known_hosts2');
  if (!v.has('globalknownhostsfile')) v.set('globalknownhostsfile', '/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2');
  expandList('revokedhostkeys');
  if (v.has('identityagent') && !/^(none|SSH_AUTH_SOCK|\$[^{].*)$/.test(v.get('identityagent')!)) v.set('identityagent', expandPath(v.get('identityagent')!));
  const options: SshOptions = { one: (k) => v.get(k), all: (k) => ev.repeated.get(k) ?? [] };
  const host_ = hostFromOptions(options, ctx, { configured: listHostAliases(ctx).includes(hostArg), resolvedBy: 'tether' });
  return verbatimHostKeys ? { ...host_, hostKeyAlgorithmsVerbatim: true } : host_;
}

/** Every file the config reads, Includes too (whatever block they sit in): for listing and scanning. */
export function configFileTree(ctx: ParserContext, withSystem = false): { file: string; lines: Line[] }[] {
  const out: { file: string; lines: Line[] }[] = [];
  const visit = (file: string, user: boolean, depth: number) => {
    if (depth > MAX_INCLUDE_DEPTH) return;
    const raw = readLines(file);
    if (!raw) return;
    const lines: Line[] = [];
    for (const text of raw) {
      let line: Line | undefined;
      try {
        line = parseLine(text);
      } catch {
        continue;
      }
      if (!line) continue;
      lines.push(line);
    }
    out.push({ file, lines });
    for (const l of lines) if (l.keyword === 'include') for (const p of l.args) for (const f of includeFiles(p, user, ctx.homeDir)) visit(f, user, depth + 1);
  };
  for (const { file, user } of configFiles(ctx)) if (user || withSystem) visit(file, user, 0);
  return out;
}

/** Host aliases a person wrote in their own config (no wildcards, no negations), in file order, once each. */
export function listHostAliases(ctx: ParserContext): string[] {
  const seen = new Set<string>();
  for (const { lines } of configFileTree(ctx)) {
    for (const l of lines) if (l.keyword === 'host') for (const p of l.args) if (!p.startsWith('!') && !/[*?]/.test(p)) seen.add(p);
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
