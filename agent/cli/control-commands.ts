import { ApprovalDecision, type AgentStatus, type ApprovalView } from '../../protocol/control.js';
import { AgentControlClient } from '../control/client.js';
import { AgentError } from '../errors.js';
import { parseCommand, UsageError } from './args.js';
import type { CliContext } from './context.js';

export const STATUS_HELP = `  tether status [--json]            what the running agent is connected to, and its leases`;
export const REVOKE_HELP = `  tether revoke [--server S]        end every lease now (on one server, or all)`;
export const APPROVALS_HELP = `  tether approvals [--json]         lease requests waiting for an answer`;
export const APPROVE_HELP = `  tether approve ID allow-once|allow|deny
                                    answer one (allow = allow while connected)`;
export const CONTROL_HELP = [STATUS_HELP, REVOKE_HELP, APPROVALS_HELP, APPROVE_HELP].join('\n');

/** The running agent's status, or undefined when none answers on the control socket. */
export async function fetchAgentStatus(control: AgentControlClient): Promise<AgentStatus | undefined> {
  try {
    return await control.call('status', {});
  } catch (err) {
    if (err instanceof AgentError && err.code === 'no-agent') return undefined;
    throw err;
  }
}

export function formatAgentStatus(s: AgentStatus): string {
  const lines = [`agent ${s.name} (pid ${s.pid}${s.fingerprint ? `, key ${s.fingerprint}` : ''}), since ${s.startedAt}`];
  lines.push(`  lends: ${s.credentials.map((c) => `${c.name} (${c.provider}, ${c.store})`).join(', ') || 'nothing yet (tether creds add)'}`);
  if (!s.servers.length) lines.push('  no servers');
  for (const srv of s.servers) {
    const state = srv.state === 'READY' ? 'connected' : srv.state.toLowerCase();
    lines.push(`  ${srv.server}: ${state}${srv.fingerprint ? ` (${srv.fingerprint})` : ''}${srv.reason && srv.state === 'CLOSED' ? ` - ${srv.reason}` : ''}`);
    if (srv.note) lines.push(`    note: ${srv.note}`);
    for (const l of srv.leases) {
      const left = Math.max(0, Math.round((l.expiresAt - Date.now()) / 1000));
      lines.push(`    lease ${l.leaseId} ${l.credential} ${l.scope === 'connection' ? 'while connected' : 'once'}, ${left} s left`);
    }
    if (srv.allowed.length) lines.push(`    allowed while connected: ${srv.allowed.join(', ')}`);
    const inFlight = Object.entries(srv.activeByCredential ?? {});
    if (inFlight.length) lines.push(`    in flight: ${inFlight.map(([name, n]) => `${name} ${n}`).join(', ')}`);
  }
  if (s.pendingApprovals) lines.push(`  ${s.pendingApprovals} request(s) waiting: tether approvals`);
  return lines.join('\n');
}

function formatApproval(a: ApprovalView): string {
  const left = Math.max(0, Math.round((a.expiresAt - Date.now()) / 1000));
  return `${a.id}  ${a.server} wants ${a.provider} for pid ${a.process.pid} (${a.process.user ?? `uid ${a.process.uid}`}): ${a.process.cmdline.join(' ')}${a.asks > 1 ? ` [asked ${a.asks}x]` : ''}  ${left} s left`;
}

const NO_AGENT = 'no tether agent is running: start one with `tether agent --connect URL`';

async function requireAgent<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AgentError && err.code === 'no-agent') throw new AgentError('no-agent', NO_AGENT);
    throw err;
  }
}

export async function statusCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommand('status', args, { json: { type: 'boolean' } });
  const status = await fetchAgentStatus(ctx.control());
  if (!status) {
    ctx.err(`tether: ${NO_AGENT}`);
    return 1;
  }
  ctx.out(values.json ? JSON.stringify(status, null, 2) : formatAgentStatus(status));
  return 0;
}

export async function revokeCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommand('revoke', args, { server: { type: 'string' } });
  if (positionals.length) throw new UsageError('usage: tether revoke [--server S]');
  const r = await requireAgent(() => ctx.control().call('revoke', values.server ? { server: values.server } : {}));
  ctx.err(r.servers.length ? `revoked ${r.leases} lease(s) on ${r.servers.join(', ')}` : 'no connected servers');
  return 0;
}

export async function approvalsCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseCommand('approvals', args, { json: { type: 'boolean' } });
  const { approvals } = await requireAgent(() => ctx.control().call('approvals', {}));
  if (values.json) ctx.out(JSON.stringify(approvals, null, 2));
  else if (!approvals.length) ctx.out('no requests waiting');
  else for (const a of approvals) ctx.out(formatApproval(a));
  return 0;
}

export async function approveCommand(args: string[], ctx: CliContext): Promise<number> {
  const { positionals } = parseCommand('approve', args, {});
  const decision = ApprovalDecision.safeParse(positionals[1]);
  if (positionals.length !== 2 || !decision.success) throw new UsageError('usage: tether approve ID allow-once|allow|deny');
  await requireAgent(() => ctx.control().call('approve', { id: positionals[0]!, decision: decision.data }));
  ctx.err(`${positionals[0]}: ${decision.data}`);
  return 0;
}
