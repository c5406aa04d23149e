import type { AgentStatus } from '../../protocol/control.js';
import { agentCommand, AGENT_COMMAND_HELP } from './agent-command.js';
import { UsageError } from './args.js';
import { cliContext, reportFailure, type CliContext } from './context.js';
import { APPROVALS_HELP, APPROVE_HELP, approvalsCommand, approveCommand, CONTROL_HELP, fetchAgentStatus, REVOKE_HELP, STATUS_HELP, formatAgentStatus as formatStatus, revokeCommand, statusCommand } from './control-commands.js';
import { credsCommand, CREDS_HELP } from './creds-command.js';
import { runtimeCommand, RUNTIME_HELP } from './runtime-command.js';
import { serversCommand, SERVERS_HELP } from './servers-command.js';

export const AGENT_COMMANDS = ['agent', 'creds', 'status', 'revoke', 'approvals', 'approve', 'servers', 'runtime'] as const;

export const AGENT_HELP = `Laptop (lend credentials):
${AGENT_COMMAND_HELP}
${CREDS_HELP}
${SERVERS_HELP}
${RUNTIME_HELP}
${CONTROL_HELP}
  Environment: TETHER_HOME (the laptop's folder; default: the platform's config folder, ~/.config/tether on Linux), TETHER_VAULT_PASSPHRASE
  (the file vault's passphrase; without it, asked at the terminal), TETHER_LOGIND=off (Linux: do not
  revoke on sleep and lock).`;

/** What `tether COMMAND --help` prints: that command's lines of the help. */
export const AGENT_USAGE: Record<(typeof AGENT_COMMANDS)[number], string> = {
  agent: AGENT_COMMAND_HELP,
  creds: CREDS_HELP,
  status: STATUS_HELP,
  revoke: REVOKE_HELP,
  approvals: APPROVALS_HELP,
  approve: APPROVE_HELP,
  servers: SERVERS_HELP,
  runtime: RUNTIME_HELP,
};

/** `--help` or `-h` anywhere on a laptop command's line (none of them passes arguments on). */
export function asksForHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

type Command = (args: string[], ctx: CliContext) => Promise<number> | number;
const COMMANDS: Record<(typeof AGENT_COMMANDS)[number], Command> = {
  agent: agentCommand,
  creds: credsCommand,
  status: statusCommand,
  revoke: revokeCommand,
  approvals: approvalsCommand,
  approve: approveCommand,
  servers: serversCommand,
  runtime: runtimeCommand,
};

/** Runs one laptop-side command line (without the leading `tether`); resolves with the exit code. */
export async function runAgentCli(argv: string[], ctx: CliContext = cliContext()): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (!command || !Object.hasOwn(COMMANDS, command)) {
      throw new UsageError(command ? `tether: unknown command "${command}" (see tether --help)` : AGENT_HELP);
    }
    if (asksForHelp(args)) {
      ctx.out(`usage:\n${AGENT_USAGE[command as keyof typeof AGENT_USAGE]}`);
      return 0;
    }
    return await COMMANDS[command as keyof typeof COMMANDS](args, ctx);
  } catch (err) {
    return reportFailure(err, ctx);
  }
}

/** The running agent's status under TETHER_HOME, or undefined when none is running. */
export async function agentStatus(): Promise<AgentStatus | undefined> {
  return fetchAgentStatus(cliContext().control());
}

export function formatAgentStatus(s: AgentStatus): string {
  return formatStatus(s);
}
