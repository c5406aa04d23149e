// The `tether` bin on a laptop: laptop commands (agent/cli) and, for one-machine use, the
// server commands (remote/cli). The only file that imports both sides.
import { AGENT_COMMANDS, AGENT_HELP, agentStatus, asksForHelp, formatAgentStatus, runAgentCli } from '../../agent/cli/main.js';
import { REMOTE_COMMANDS, REMOTE_HELP, daemonStatus, formatDaemonStatus, runRemoteCli } from '../../remote/cli/main.js';
import { PROTOCOL_VERSION } from '../../protocol/index.js';
import pkg from '../../package.json' with { type: 'json' };

const STATUS_USAGE = `  tether status [--json]            both sides under TETHER_HOME: the agent and the daemon`;

const HELP = `tether ${pkg.version}: lend LLM credentials from your laptop to servers, only while it is there.

${AGENT_HELP}

${REMOTE_HELP}

${STATUS_USAGE}
  tether help COMMAND               what COMMAND takes (as \`tether COMMAND --help\`)
  tether --version`;

async function bothStatus(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const unknown = args.find((a) => a !== '--json');
  if (unknown) {
    process.stderr.write(`tether status: unknown option ${unknown} (see tether --help)\n`);
    return 1;
  }
  const [agent, daemon] = await Promise.all([agentStatus().catch(() => undefined), daemonStatus().catch(() => undefined)]);
  if (json) {
    process.stdout.write(JSON.stringify({ agent: agent ?? null, daemon: daemon ?? null }, null, 2) + '\n');
  } else {
    const blocks = [agent ? formatAgentStatus(agent) : undefined, daemon ? formatDaemonStatus(daemon) : undefined].filter(Boolean);
    if (blocks.length) process.stdout.write(blocks.join('\n\n') + '\n');
  }
  if (!agent && !daemon) {
    process.stderr.write('tether: neither an agent nor a daemon is running here (start one with `tether agent` or `tether serve`)\n');
    return 1;
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || (command === 'help' && args.length === 0)) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`tether ${pkg.version} (protocol v${PROTOCOL_VERSION})\n`);
    return 0;
  }
  if (command === 'help' && args[0] !== undefined) return main([args[0], '--help']);
  if (command === 'status') {
    if (asksForHelp(args)) {
      process.stdout.write(`usage:\n${STATUS_USAGE}\n`);
      return 0;
    }
    return bothStatus(args);
  }
  if ((AGENT_COMMANDS as readonly string[]).includes(command)) return runAgentCli(argv);
  if ((REMOTE_COMMANDS as readonly string[]).includes(command)) return runRemoteCli(argv);
  process.stderr.write(`tether: unknown command "${command}" (see tether --help)\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
