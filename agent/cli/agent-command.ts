import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { DEFAULT_LEASE_TTL_MS, DisplayName } from '../../protocol/index.js';
import { createAgent, type Agent } from '../agent.js';
import { ApprovalPolicy } from '../approvals.js';
import { ControlServer } from '../control/server.js';
import { AgentError } from '../errors.js';
import { lowerHelperThreadPriority } from '../../protocol/node/helper-threads.js';
import { ensureDirs } from '../paths.js';
import { TtyApprover } from '../tty-prompt.js';
import { watchPower } from '../power/watch-power.js';
import { TtySshPromptAnswerer } from './tty-ssh-prompter.js';
import type { SshMode } from '../transports/ssh-binary.js';
import { formatDuration, parseCommand, parseDuration, UsageError } from './args.js';
import { storeKindFlag, type CliContext } from './context.js';
import { fetchAgentStatus } from './control-commands.js';

export const AGENT_COMMAND_HELP = `  tether agent --connect URL [--connect URL...] [--pair CODE]
               [--approve ask|allow|allow-once|deny|FILE] [--approval-timeout 60s]
               [--lease-ttl 10m] [--upstream-timeout 60s] [--heartbeat 1s] [--name NAME] [--store KIND]
               [--ssh openssh|builtin]
                                    lend credentials to servers until stopped (Ctrl-C says bye)
                                    URL: a Host from ~/.ssh/config, a name from \`tether servers\`,
                                    ssh://user@host[:port], wss://host:port (\`tether serve --listen\`; pair first)
                                    or unix:/path/to/tether.sock; --store: where the agent key lives
                                    (file: the encrypted vault, TETHER_VAULT_PASSPHRASE or a prompt);
                                    --ssh: your own \`ssh\` (default where installed: its config, keys,
                                    agent, ProxyCommand; prompts come here) or the built-in client`;

export interface AgentRun {
  agent: Agent;
  control: ControlServer;
  /** Resolves with the exit code once the agent has stopped. */
  done: Promise<number>;
  stop(): Promise<void>;
}

export async function agentCommand(args: string[], ctx: CliContext): Promise<number> {
  const run = await startAgent(args, ctx);
  if (typeof run === 'number') return run;
  const onSignal = () => void run.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await run.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
}

/** Everything `tether agent` does short of waiting for a signal (tests drive this directly). */
export async function startAgent(args: string[], ctx: CliContext): Promise<AgentRun | number> {
  const { values, positionals } = parseCommand('agent', args, {
    connect: { type: 'string', multiple: true },
    pair: { type: 'string' },
    approve: { type: 'string' },
    'approval-timeout': { type: 'string' },
    'lease-ttl': { type: 'string' },
    'upstream-timeout': { type: 'string' },
    heartbeat: { type: 'string' },
    name: { type: 'string' },
    store: { type: 'string' },
    'identity-store': { type: 'string' },
    ssh: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`tether agent: unexpected argument "${positionals[0]}" (use --connect URL)`);
  const urls = values.connect ?? [];
  if (!urls.length) throw new UsageError('tether agent: say which server with --connect URL (e.g. unix:/home/me/.tether/run/tether.sock)');
  if (values.pair !== undefined && urls.length > 1) throw new UsageError('tether agent: --pair pairs with one server; give a single --connect');
  if (values.name !== undefined && !DisplayName.safeParse(values.name).success) throw new UsageError('--name: letters, digits, space and ._@:+- only');
  const policy = ApprovalPolicy.parse(values.approve ?? 'ask');
  const approvalTimeoutMs = values['approval-timeout'] ? parseDuration(values['approval-timeout'], '--approval-timeout') : 60_000;
  const leaseTtlMs = values['lease-ttl'] ? parseDuration(values['lease-ttl'], '--lease-ttl') : DEFAULT_LEASE_TTL_MS;
  if (leaseTtlMs < 1000) throw new UsageError('--lease-ttl must be at least 1s');
  const upstreamTimeoutMs = values['upstream-timeout'] ? parseDuration(values['upstream-timeout'], '--upstream-timeout') : undefined;
  // Asked of daemons started over SSH (default: the Settings page's); leases die within 3 of them.
  const heartbeatMs = values.heartbeat ? parseDuration(values.heartbeat, '--heartbeat') : undefined;
  if (heartbeatMs !== undefined && (heartbeatMs < 50 || heartbeatMs > 60_000)) throw new UsageError('--heartbeat must be between 50ms and 60s');
  const identityStore = storeKindFlag(values['identity-store'] ?? values.store, values['identity-store'] ? '--identity-store' : '--store') ?? (await ctx.defaultStore());

  ensureDirs(ctx.paths);
  const running = await fetchAgentStatus(ctx.control());
  if (running) throw new AgentError('refused', `an agent is already running (pid ${running.pid}): stop it first, or use \`tether status\``);

  const agent = createAgent({
    home: ctx.paths.home,
    policy,
    approvalTimeoutMs,
    leaseTtlMs,
    ...(upstreamTimeoutMs ? { upstreamTimeoutMs } : {}),
    ...(heartbeatMs ? { heartbeatMs } : {}),
    ...(values.name ? { name: values.name } : {}),
    openStore: ctx.openStore,
    identityStore,
    env: ctx.env,
    notice: (line) => ctx.err(line),
    ...(values.ssh !== undefined ? { ssh: sshModeFlag(values.ssh) } : {}),
  });
  await agent.loadIdentity();
  // SSH's questions come here at a terminal; a UI on the control socket may answer them too (first answer wins).
  if (process.stdin.isTTY) new TtySshPromptAnswerer(agent.sshPrompts, process.stdin, process.stderr);
  const control = new ControlServer(agent, ctx.paths.socket);
  await control.listen();
  // Not in the tray app: Electron's other threads (its IO thread above all) are not helpers.
  lowerHelperThreadPriority();
  writeFileSync(ctx.paths.agentJson, JSON.stringify({ pid: process.pid, socket: ctx.paths.socket, startedAt: agent.startedAt }) + '\n', { mode: 0o600 });
  if (process.stdin.isTTY) new TtyApprover(agent.approvals, process.stdin, process.stderr);

  let stopping: Promise<void> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const stop = (code = 0): Promise<void> => {
    stopping ??= (async () => {
      await agent.close();
      await control.close();
      removeOwned(ctx.paths.agentJson);
      resolveDone(code);
    })();
    return stopping;
  };

  reportLinks(agent, ctx.err);
  agent.on('activity', (a) => {
    if (a.kind === 'lease') ctx.err(`${a.server}: ${a.credential} ${a.decision}${a.pid !== undefined ? ` for pid ${a.pid}` : ''}`);
    if (a.kind === 'revoke') ctx.err(`${a.server}: revoked ${a.status} lease(s)`);
  });

  let connected = 0;
  for (const url of urls) {
    try {
      const session = await agent.connect(url, values.pair !== undefined ? { pairCode: values.pair } : {});
      const lending = agent.credentials.list().map((c) => c.name);
      const paired = values.pair !== undefined ? 'paired with' : 'connected to';
      ctx.err(`${paired} ${session.server} (${session.link.server?.fingerprint}); lending ${lending.join(', ') || 'nothing yet (tether creds add)'}`);
      connected++;
    } catch (err) {
      ctx.err(`tether: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!connected) {
    await stop(1);
    return 1;
  }
  ctx.err(`approvals: ${policy.source}, timeout ${formatDuration(approvalTimeoutMs)}; lease TTL ${formatDuration(leaseTtlMs)}; control socket ${ctx.paths.socket}`);
  const stopPower = await watchPower(agent, ctx.env, ctx.err);
  void done.then(stopPower);
  return { agent, control, done, stop: () => stop(0) };
}

function sshModeFlag(value: string): SshMode {
  if (value === 'openssh' || value === 'builtin') return value;
  throw new UsageError(`--ssh ${value.slice(0, 40)}: say openssh or builtin`);
}

/**
 * A link that was up and went down gets one line. A link that never came up is not reported
 * here: the connect that failed says why (the connect loop below prints it), a retry shows in
 * `tether status` and the reconnector says when it gives up, so no failure is printed twice.
 */
export function reportLinks(agent: Pick<Agent, 'on'>, err: (line: string) => void): void {
  const up = new Set<string>();
  agent.on('link', (e) => {
    if (e.state === 'READY') up.add(e.server);
    else if (e.state === 'CLOSED' && up.delete(e.server)) err(`disconnected from ${e.server}${e.reason ? `: ${e.reason}` : ''}`);
  });
}

/** Removes agent.json only if it is still ours (a second agent may have replaced it). */
function removeOwned(file: string): void {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number };
    if (info.pid === process.pid) unlinkSync(file);
  } catch {
    // already gone
  }
}
