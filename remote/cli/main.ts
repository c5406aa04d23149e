import { parseArgs } from 'node:util';
import { DaemonControlClient, CliError } from './control-client.js';
import { answerOf } from './daemon-answers.js';
import { ExitCode } from './exit-codes.js';
import { tokenCommand } from './token-command.js';
import { reportCliFailure } from './cli-failure.js';
import type { StatusAnswer } from '../../protocol/daemon-control-schemas.js';

export { ExitCode } from './exit-codes.js';

export const REMOTE_COMMANDS = ['serve', 'token', 'env', 'exec', 'status', 'pair-code', 'attach', 'setup'] as const;

/** What `tether COMMAND --help` prints: that command's lines of the help. */
export const REMOTE_USAGE: Record<(typeof REMOTE_COMMANDS)[number], string> = {
  token: `  tether token PROVIDER [--as NAME]              print a lease token (for apiKeyHelper and credential helpers)`,
  env: `  tether env [--provider p,q] [--as NAME] [--shell sh|bash|zsh|fish]
                                                 print export lines: *_BASE_URL at the proxy, *_API_KEY = a lease`,
  exec: `  tether exec [--provider p,q] [--as NAME] -- CMD [ARGS…]
                                                 run CMD with leases in its environment, released when it exits`,
  status: `  tether status [--json]                         connected laptops and live leases (never tokens)`,
  setup: `  tether setup TOOL [--name CREDENTIAL] [--write]
                                                 what claude-code, opencode, codex, gemini-cli or aider needs;
                                                 --write applies it to the tool's config after showing the diff`,
  'pair-code': `  tether pair-code [--json]                      a one-time code to pair a laptop without SSH`,
  serve: `  tether serve [--socket PATH] [--proxy-port N] [--heartbeat-ms N] [--max-lease-ttl-ms N]
               [--request-timeout-ms N] [--upstream-timeout-ms N] [--server-id ID] [--idle-exit-ms N]
               [--listen HOST:PORT]
                                                 run the daemon (the laptop's agent normally starts it)`,
  attach: `  tether attach --agent-key KEY --agent-name NAME [--idle-exit-ms N] [--heartbeat-ms N]
                                                 (run by a laptop over SSH) authorize its key, start or reuse the daemon`,
};

const REMOTE_NOTES = `  --as NAME defaults to $TETHER_AS; files live under $TETHER_HOME (default ~/.tether).
Exit codes: 0 ok, 1 usage, 2 no laptop or no daemon, 3 denied, 4 approval timed out, 5 unknown provider.`;

export const REMOTE_HELP = `Server commands (tools on this machine borrow credentials from a connected laptop):
${(['token', 'env', 'exec', 'status', 'setup', 'pair-code', 'serve', 'attach'] as const).map((c) => REMOTE_USAGE[c]).join('\n')}
${REMOTE_NOTES}
`;

/** `--help` or `-h` among a server command's own options (for exec: before `--`, after it is CMD's). */
export function asksForHelp(args: string[]): boolean {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  return own.includes('--help') || own.includes('-h');
}

/**
 * Runs one server command line; prints its own output and returns the exit code.
 * The daemon's code is imported only by the commands that run it: `tether token` is a
 * tool's key helper, run per request by some tools, and must start fast (bench/).
 */
export async function runRemoteCli(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command !== undefined && Object.hasOwn(REMOTE_USAGE, command) && asksForHelp(args)) {
    process.stdout.write(`usage:\n${REMOTE_USAGE[command as keyof typeof REMOTE_USAGE]}\n${REMOTE_NOTES}\n`);
    return ExitCode.ok;
  }
  try {
    switch (command) {
      case 'help':
        if (args[0] !== undefined) return await runRemoteCli([args[0], '--help']);
      // falls through
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(REMOTE_HELP);
        return command === undefined ? ExitCode.usage : ExitCode.ok;
      case 'serve':
        return await (await import('./serve.js')).serveCommand(args);
      case 'token':
        return await tokenCommand(args);
      case 'setup':
        return await (await import('./setup.js')).setupCommand(args);
      case 'env':
        return await (await import('./lease-commands.js')).envCommand(args);
      case 'exec':
        return await (await import('./lease-commands.js')).execCommand(args);
      case 'status':
        return await statusCommand(args);
      case 'pair-code':
        return await pairCodeCommand(args);
      case 'attach':
        return await (await import('./attach.js')).attachCommand(args);
      default:
        throw new CliError(ExitCode.usage, `unknown command "${command.slice(0, 40)}": see \`tether --help\``);
    }
  } catch (err) {
    return reportCliFailure(command, err);
  }
}

async function statusCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: false });
  const status = await DaemonControlClient.locate().call('status', {}, answerOf('status'), 5000);
  process.stdout.write(values.json ? JSON.stringify(status, null, 2) + '\n' : formatDaemonStatus(status));
  return ExitCode.ok;
}

async function pairCodeCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: false });
  const answer = await DaemonControlClient.locate().call('pairCode', {}, answerOf('pairCode'), 5000);
  if (values.json) {
    process.stdout.write(JSON.stringify(answer, null, 2) + '\n');
    return ExitCode.ok;
  }
  process.stdout.write(
    [
      `Pair code:   ${answer.code}`,
      `Server:      ${answer.serverId} (${answer.fingerprint})`,
      `Expires:     ${answer.expiresAt} (single use)`,
      ...(answer.listen ? [`TLS:         ${answer.tlsFingerprint} (pinned by the laptop at pairing)`] : []),
      '',
      'On the laptop, run:',
      `  tether agent --connect ${answer.listen ?? `unix:${answer.socket}`} --pair ${answer.code}`,
      '(or --connect with the SSH host name of this server when the laptop connects over SSH)',
      'and check that the laptop shows the same key fingerprint as above.',
      '',
    ].join('\n'),
  );
  return ExitCode.ok;
}

/** The daemon's status for the combined `tether status`; undefined when none runs under TETHER_HOME. */
export async function daemonStatus(): Promise<object | undefined> {
  try {
    return await DaemonControlClient.locate().call('status', {}, answerOf('status'), 5000);
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.noLaptop) return undefined;
    throw err;
  }
}

export function formatDaemonStatus(s: object): string {
  const status = s as StatusAnswer;
  const lines = [
    `tether daemon ${status.serverId} (${status.fingerprint}), pid ${status.pid}`,
    `  proxy  ${status.proxyUrl}`,
    `  socket ${status.socket}`,
  ];
  if (status.heartbeatMs !== undefined) {
    const build = `${status.version ?? '?'}${status.bundle ? `, bundle ${status.bundle.slice(0, 12)}` : ''}`;
    lines.push(`  runs   ${build}; heartbeat ${status.heartbeatMs} ms (leases die within ${3 * status.heartbeatMs} ms of a silent laptop)${status.retiring ? '; replaced once no laptop is linked' : ''}`);
  }
  if (status.laptops.length === 0) lines.push('laptops: none connected');
  else {
    lines.push('laptops:');
    for (const l of status.laptops) {
      const lends =
        l.providers.map((p) => `${p.name === p.provider ? p.name : `${p.name} (${p.provider})`}${p.active ? ` [${p.active} in flight]` : ''}`).join(', ') || 'nothing yet';
      lines.push(`  ${l.name}  ${l.agentId}  since ${l.connectedAt}  lends ${lends}  ${l.leases} lease${l.leases === 1 ? '' : 's'}`);
    }
  }
  if (status.leases.length === 0) lines.push('leases: none');
  else {
    lines.push('leases:');
    for (const l of status.leases) lines.push(`  ${l.leaseId}  /${l.name}  from ${l.laptop}  ${l.scope}  until ${l.expiresAt}  pid ${l.pid}`);
  }
  return lines.join('\n') + '\n';
}
