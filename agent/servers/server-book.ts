import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { AgentError } from '../errors.js';
import { listHostAliases, type SshHost } from './ssh-config.js';
import { explicitConfigFile, resolveSshHost, resolveSshRoute, type ResolveContext } from './ssh-resolve.js';

export const ServerName = z.string().regex(/^[A-Za-z0-9][\w.@-]{0,63}$/, 'letters, digits and ._@- only');

const SavedServer = z.object({ name: ServerName, url: z.string(), addedAt: z.string() });
export type SavedServer = z.infer<typeof SavedServer>;
const ServersFile = z.object({ servers: z.array(SavedServer).default([]) });

/** A server as `tether servers list` shows it: from ~/.ssh/config or added by hand. */
export interface ServerListing {
  name: string;
  source: 'ssh-config' | 'added';
  url: string;
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles?: string[];
  proxyJump?: string[];
  /** Who worked the values out: `ssh -G` (OpenSSH's own answer) or Tether's parser. */
  resolvedBy?: string;
  /** Why the host could not be resolved (a config error): the listing still names it. */
  error?: string;
}

/**
 * Servers added with `tether servers add` (servers.json beside config.json, 0600: it names
 * hosts, nothing secret) plus the Host aliases of ~/.ssh/config, which stay where they are.
 */
export class ServerBook {
  readonly file: string;

  constructor(
    home: string,
    private readonly sshDir: { homeDir: string; localUser: string; env?: NodeJS.ProcessEnv },
  ) {
    this.file = join(home, 'servers.json');
  }

  saved(): SavedServer[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const parsed = ServersFile.safeParse(JSON.parse(text));
    if (!parsed.success) throw new AgentError('bad-config', `${this.file} is not a valid servers file: fix or remove it`);
    return parsed.data.servers;
  }

  add(name: string, url: string): SavedServer {
    if (!ServerName.safeParse(name).success) throw new AgentError('bad-url', `server name "${name.slice(0, 64)}": use letters, digits and ._@- only`);
    if (!/^(ssh|wss):\/\/[^\s/]+\/?$/.test(url)) throw new AgentError('bad-url', `"${url.slice(0, 200)}": use ssh://user@host[:port] or wss://host:port`);
    const entry = { name, url: url.replace(/\/$/, ''), addedAt: new Date().toISOString() };
    this.write([...this.saved().filter((s) => s.name !== name), entry]);
    return entry;
  }

  remove(name: string): boolean {
    const before = this.saved();
    const after = before.filter((s) => s.name !== name);
    if (after.length !== before.length) this.write(after);
    return after.length !== before.length;
  }

  private get resolveContext(): ResolveContext {
    return { homeDir: this.sshDir.homeDir, localUser: this.sshDir.localUser, env: this.sshDir.env ?? process.env };
  }

  /** What `ssh TEXT` would use (an alias, a host, `[ssh://]user@host[:port]`). */
  sshConfigHost(text: string): SshHost {
    return resolveSshHost(text, this.resolveContext);
  }

  /** The target and its ProxyJump hops, first hop first, resolved as ssh resolves them. */
  sshRoute(text: string): { target: SshHost; hops: SshHost[] } {
    return resolveSshRoute(text, this.resolveContext);
  }

  /** Whether NAME is a server of ours or a Host alias of ~/.ssh/config, without resolving any host. */
  names(name: string): boolean {
    return this.saved().some((s) => s.name === name) || this.aliases().includes(name);
  }

  private aliases(): string[] {
    const ctx = this.resolveContext;
    return listHostAliases({ ...ctx, uid: 0, thisHost: '', ...configFileFor(ctx) });
  }

  list(): ServerListing[] {
    const ctx = this.resolveContext;
    const fromSsh = this.aliases().map((alias): ServerListing => {
      try {
        const h = resolveSshHost(alias, ctx);
        return {
          name: alias,
          source: 'ssh-config',
          url: `ssh://${h.user}@${h.hostName}${h.port === 22 ? '' : `:${h.port}`}`,
          hostName: h.hostName,
          user: h.user,
          port: h.port,
          identityFiles: h.identityFiles,
          proxyJump: h.proxyJump,
          ...(h.resolvedBy ? { resolvedBy: h.resolvedBy } : {}),
        };
      } catch (err) {
        return { name: alias, source: 'ssh-config', url: `ssh://${alias}`, error: err instanceof Error ? err.message : String(err) };
      }
    });
    const added = this.saved().map((s): ServerListing => ({ name: s.name, source: 'added', url: s.url }));
    return [...added, ...fromSsh.filter((h) => !added.some((a) => a.name === h.name))];
  }

  private write(servers: SavedServer[]): void {
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify({ servers }, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

function configFileFor(ctx: ResolveContext): { configFile?: string } {
  const file = explicitConfigFile(ctx);
  return file ? { configFile: file } : {};
}
