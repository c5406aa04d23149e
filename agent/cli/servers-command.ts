import { homedir, userInfo } from 'node:os';
import { updateConfig } from '../config.js';
import { ServerBook } from '../servers/server-book.js';
import { parseCommand, UsageError } from './args.js';
import type { CliContext } from './context.js';

export const SERVERS_HELP = `  tether servers list [--json]      hosts from ~/.ssh/config and ones added here
  tether servers add NAME ssh://user@host[:port] | wss://host:port
  tether servers rm NAME
  tether servers unpin SERVER       forget the daemon key (and certificate) pinned for SERVER,
                                    after a reinstall; the next connection must pair again`;

function book(ctx: CliContext): ServerBook {
  let user = ctx.env.USER;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'root';
    }
  }
  return new ServerBook(ctx.paths.home, { homeDir: ctx.env.HOME || homedir(), localUser: user, env: ctx.env });
}

export function serversCommand(args: string[], ctx: CliContext): number {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list':
    case undefined: {
      const { values, positionals } = parseCommand('servers list', rest, { json: { type: 'boolean' } });
      if (positionals.length) throw new UsageError(`tether servers list: unexpected argument "${positionals[0]}"`);
      const servers = book(ctx).list();
      if (values.json) {
        ctx.out(JSON.stringify(servers, null, 2));
        return 0;
      }
      if (!servers.length) ctx.out('no servers: add Host entries to ~/.ssh/config, or `tether servers add NAME ssh://user@host`');
      for (const s of servers) {
        const jump = s.proxyJump?.length ? `  via ${s.proxyJump.join(',')}` : '';
        ctx.out(s.error ? `${s.name}  (${s.source}) cannot be resolved: ${s.error}` : `${s.name}  ${s.url}  (${s.source})${jump}`);
      }
      return 0;
    }
    case 'add': {
      const { positionals } = parseCommand('servers add', rest, {});
      if (positionals.length !== 2) throw new UsageError('usage: tether servers add NAME ssh://user@host[:port] | wss://host:port');
      const entry = book(ctx).add(positionals[0]!, positionals[1]!);
      ctx.err(`added ${entry.name} (${entry.url}); connect with \`tether agent --connect ${entry.name}\``);
      return 0;
    }
    case 'rm':
    case 'remove': {
      const { positionals } = parseCommand('servers rm', rest, {});
      if (positionals.length !== 1) throw new UsageError('usage: tether servers rm NAME');
      if (!book(ctx).remove(positionals[0]!)) {
        ctx.err(`tether: no server named "${positionals[0]}" was added here (hosts in ~/.ssh/config are edited there)`);
        return 1;
      }
      ctx.err(`removed ${positionals[0]}`);
      return 0;
    }
    case 'unpin': {
      const { positionals } = parseCommand('servers unpin', rest, {});
      if (positionals.length !== 1) throw new UsageError('usage: tether servers unpin SERVER');
      const server = positionals[0]!;
      let forgotten: string | undefined;
      updateConfig(ctx.paths.config, (config) => {
        forgotten = config.servers[server]?.fingerprint;
        delete config.servers[server];
      });
      if (!forgotten) {
        ctx.err(`tether: nothing is pinned for "${server}" (see \`tether status\` for the names the agent uses)`);
        return 1;
      }
      ctx.err(`forgot daemon key ${forgotten} for ${server}; connect with --pair CODE (or over SSH) to pin the new one`);
      return 0;
    }
    default:
      throw new UsageError(`tether servers: unknown subcommand "${sub}" (list, add, rm, unpin)`);
  }
}
