// ssh_config's %-tokens and ${VAR} (misc.c percent_expand / percent_dollar_expand), and
// tilde_expand_filename(). An unknown token or an unset variable is an error, as in ssh.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { AgentError } from '../errors.js';

export type Tokens = Record<string, string>;

/**
 * Expands `%x` from `tokens` (`%%` is a percent sign) and, when `env` is given, `${VAR}`
 * from it, in one pass as OpenSSH does.
 */
export function expandTokens(text: string, tokens: Tokens, env?: Record<string, string | undefined>, what = 'ssh_config'): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (env && ch === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) throw new AgentError('bad-config', `${what}: "${text}" has an unterminated \${ (fix the ssh config)`);
      const name = text.slice(i + 2, end);
      const value = env[name];
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || value === undefined) {
        throw new AgentError('bad-config', `${what}: \${${name}} in "${text}" is not set in the environment (as ssh, Tether will not guess)`);
      }
      out += value;
      i = end;
    } else if (ch === '%') {
      const key = text[i + 1];
      if (key === undefined) throw new AgentError('bad-config', `${what}: "${text}" ends with a lone %`);
      if (key === '%') out += '%';
      else if (key in tokens) out += tokens[key];
      else throw new AgentError('bad-config', `${what}: unknown token %${key} in "${text}"`);
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

/** `~` and `~/…` are the home folder (`~user` is left alone: ssh looks that user up). */
export function expandTilde(path: string, homeDir: string): string {
  if (path === '~') return homeDir;
  if (path.startsWith('~/')) return join(homeDir, path.slice(2));
  return path;
}

export interface ConnectionInfo {
  /** The name as typed (`%n`). */
  hostArg: string;
  /** HostName after %h and canonicalization (`%h`). */
  hostName: string;
  port: number;
  user: string;
  localUser: string;
  homeDir: string;
  uid: number;
  thisHost: string;
  hostKeyAlias?: string;
}

/** DEFAULT_CLIENT_PERCENT_EXPAND_ARGS: the tokens most keywords take. */
export function clientTokens(c: ConnectionInfo): Tokens {
  const port = String(c.port);
  return {
    C: createHash('sha1').update(`${c.thisHost}${c.hostName}${port}${c.user}`).digest('hex'),
    L: c.thisHost.split('.')[0]!,
    i: String(c.uid),
    k: c.hostKeyAlias ?? c.hostArg,
    l: c.thisHost,
    n: c.hostArg,
    p: port,
    d: c.homeDir,
    h: c.hostName,
    r: c.user,
    u: c.localUser,
  };
}
