// What `ssh ALIAS` would use, as one value: built from ssh_config options in the vocabulary of
// `ssh -G` (lowercase keyword, the rest of the line), whether ssh printed them or Tether's own
// parser produced them. The second half of ssh's token expansion (what ssh does after -G
// prints: IdentityFile, CertificateFile, ProxyCommand) happens here, once, for both.
import { expandTilde, expandTokens, clientTokens, type ConnectionInfo } from './ssh-tokens.js';

export type StrictHostKeyChecking = 'yes' | 'ask' | 'accept-new' | 'no';

export interface SshHost {
  /** The name asked for (`%n`). */
  alias: string;
  hostName: string;
  user: string;
  port: number;
  identityFiles: string[];
  /** Hops as written (`user@host:port`, aliases allowed), first hop first. */
  proxyJump: string[];
  setEnv: Record<string, string>;
  /** UserKnownHostsFile, expanded; empty for `none`. */
  knownHostsFiles: string[];
  /** Whether a Host line names this alias literally (not only a wildcard). */
  configured: boolean;
  // Absent below = OpenSSH's default (hand-made hosts, older callers).
  /** GlobalKnownHostsFile (default /etc/ssh/ssh_known_hosts{,2}). */
  globalKnownHostsFiles?: string[];
  certificateFiles?: string[];
  identitiesOnly?: boolean;
  /** IdentityAgent: a socket path, `none`, `SSH_AUTH_SOCK` or `$VAR`; absent = $SSH_AUTH_SOCK. */
  identityAgent?: string;
  /** ProxyCommand with %h %p %r %n %k expanded (without `exec`); absent = connect directly. */
  proxyCommand?: string;
  hostKeyAlias?: string;
  strictHostKeyChecking?: StrictHostKeyChecking;
  hashKnownHosts?: boolean;
  /** HostKeyAlgorithms, in ssh's order; `hostKeyAlgorithmsVerbatim` = the user wrote a list (no reordering by known_hosts). */
  hostKeyAlgorithms?: string[];
  hostKeyAlgorithmsVerbatim?: boolean;
  kexAlgorithms?: string[];
  ciphers?: string[];
  macs?: string[];
  pubkeyAcceptedAlgorithms?: string[];
  revokedHostKeys?: string[];
  checkHostIP?: boolean;
  requiredRsaSize?: number;
  batchMode?: boolean;
  passwordAuthentication?: boolean;
  kbdInteractiveAuthentication?: boolean;
  pubkeyAuthentication?: boolean;
  preferredAuthentications?: string[];
  numberOfPasswordPrompts?: number;
  addressFamily?: 'any' | 'inet' | 'inet6';
  connectTimeoutS?: number;
  proxyUseFdpass?: boolean;
  knownHostsCommand?: string;
  verifyHostKeyDNS?: string;
  /** Who worked these values out: OpenSSH itself (`ssh -G`) or Tether's own parser. */
  resolvedBy?: 'ssh -G' | 'tether';
}

/** Options as `ssh -G` prints them: one value per keyword, or every value of a repeatable one. */
export interface SshOptions {
  one(keyword: string): string | undefined;
  all(keyword: string): string[];
}

export interface HostContext {
  homeDir: string;
  localUser: string;
  env: Record<string, string | undefined>;
  uid: number;
  thisHost: string;
}

/** What commands the ssh config names (Match exec, ProxyCommand, ssh -G itself) run with: the agent's environment without Tether's own secrets. */
export function sshChildEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && !k.startsWith('TETHER_'))) as NodeJS.ProcessEnv;
}

export const DEFAULT_IDENTITY_FILES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) => `~/.ssh/${f}`);

function flag(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return /^(yes|true)$/i.test(v);
}

function list(v: string | undefined, sep: RegExp): string[] | undefined {
  return v === undefined ? undefined : v.split(sep).filter(Boolean);
}

function strict(v: string | undefined): StrictHostKeyChecking {
  switch (v?.toLowerCase()) {
    case 'yes':
    case 'true':
      return 'yes';
    case 'no':
    case 'false':
    case 'off':
      return 'no';
    case 'accept-new':
      return 'accept-new';
    default:
      return 'ask';
  }
}

/** `[user@]host[:port]` hops of ProxyJump (`none` = no hop). */
function jumps(v: string | undefined): string[] {
  if (!v || v.toLowerCase() === 'none') return [];
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

export function hostFromOptions(o: SshOptions, ctx: HostContext, meta: { configured: boolean; resolvedBy: 'ssh -G' | 'tether' }): SshHost {
  const alias = o.one('host') ?? '';
  const hostName = o.one('hostname') ?? alias;
  const user = o.one('user') ?? ctx.localUser;
  const port = Number(o.one('port') ?? 22);
  const hostKeyAlias = o.one('hostkeyalias');
  const info: ConnectionInfo = { hostArg: alias, hostName, port, user, localUser: ctx.localUser, homeDir: ctx.homeDir, uid: ctx.uid, thisHost: ctx.thisHost, ...(hostKeyAlias ? { hostKeyAlias } : {}) };
  const tokens = clientTokens(info);
  // ssh expands these after -G prints them (load_public_identity_files): ~, %-tokens and ${VAR}.
  const file = (f: string) => expandTokens(expandTilde(f, ctx.homeDir), tokens, ctx.env, `IdentityFile ${f}`);
  const setEnv: Record<string, string> = {};
  for (const pair of o.all('setenv')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && !(pair.slice(0, eq) in setEnv)) setEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const proxy = o.one('proxycommand');
  const userFiles = o.one('userknownhostsfile');
  const globalFiles = o.one('globalknownhostsfile');
  const revoked = o.one('revokedhostkeys');
  const family = o.one('addressfamily');
  const timeout = o.one('connecttimeout');
  const preferred = o.one('preferredauthentications');
  const host: SshHost = {
    alias,
    hostName,
    user,
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 22,
    identityFiles: o.all('identityfile').filter((f) => f.toLowerCase() !== 'none').map(file),
    proxyJump: jumps(o.one('proxyjump')),
    setEnv,
    knownHostsFiles: userFiles === undefined || userFiles.toLowerCase() === 'none' ? [] : userFiles.split(' ').filter(Boolean),
    configured: meta.configured,
    globalKnownHostsFiles: globalFiles === undefined || globalFiles.toLowerCase() === 'none' ? [] : globalFiles.split(' ').filter(Boolean),
    certificateFiles: o.all('certificatefile').filter((f) => f.toLowerCase() !== 'none').map(file),
    identitiesOnly: flag(o.one('identitiesonly'), false),
    strictHostKeyChecking: strict(o.one('stricthostkeychecking')),
    hashKnownHosts: flag(o.one('hashknownhosts'), false),
    checkHostIP: flag(o.one('checkhostip'), false),
    requiredRsaSize: Number(o.one('requiredrsasize') ?? 1024),
    batchMode: flag(o.one('batchmode'), false),
    passwordAuthentication: flag(o.one('passwordauthentication'), true),
    kbdInteractiveAuthentication: flag(o.one('kbdinteractiveauthentication'), true),
    pubkeyAuthentication: flag(o.one('pubkeyauthentication'), true),
    numberOfPasswordPrompts: Number(o.one('numberofpasswordprompts') ?? 3),
    proxyUseFdpass: flag(o.one('proxyusefdpass'), false),
    resolvedBy: meta.resolvedBy,
  };
  const optional: Partial<SshHost> = {
    identityAgent: o.one('identityagent'),
    hostKeyAlias,
    proxyCommand: proxy && proxy.toLowerCase() !== 'none' ? expandProxyCommand(proxy, info) : undefined,
    hostKeyAlgorithms: list(o.one('hostkeyalgorithms'), /,/),
    kexAlgorithms: list(o.one('kexalgorithms'), /,/),
    ciphers: list(o.one('ciphers'), /,/),
    macs: list(o.one('macs'), /,/),
    pubkeyAcceptedAlgorithms: list(o.one('pubkeyacceptedalgorithms'), /,/),
    revokedHostKeys: revoked && revoked.toLowerCase() !== 'none' ? revoked.split(' ').filter(Boolean) : undefined,
    preferredAuthentications: list(preferred, /,/),
    addressFamily: family === 'inet' || family === 'inet6' ? family : undefined,
    connectTimeoutS: timeout && /^\d+$/.test(timeout) && Number(timeout) > 0 ? Number(timeout) : undefined,
    knownHostsCommand: o.one('knownhostscommand'),
    verifyHostKeyDNS: /^(yes|true|ask)$/i.test(o.one('verifyhostkeydns') ?? '') ? o.one('verifyhostkeydns')!.toLowerCase().replace('true', 'yes') : undefined,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (host as unknown as Record<string, unknown>)[k] = v;
  return host;
}

/** sshconnect.c expand_proxy_command(): %h %k %n %p %r only. */
function expandProxyCommand(command: string, c: ConnectionInfo): string {
  return expandTokens(command, { h: c.hostName, k: c.hostKeyAlias ?? c.hostArg, n: c.hostArg, p: String(c.port), r: c.user }, undefined, 'ProxyCommand');
}
