import { parseArgs } from 'node:util';
import { CliError, DaemonControlClient } from './control-client.js';
import { ExitCode } from './exit-codes.js';
import { parseLeaseAnswer, type LeaseAnswer } from '../../protocol/daemon-control.js';
import type { LeasePurpose } from '../../protocol/daemon-control-schemas.js';

// `tether token` is a tool's key helper, run per request by some tools: this module and what it
// imports are all that command loads (no child_process, no crypto; bench/token-process.ts).

const RELEASE_ANSWER = (json: unknown) => (typeof (json as { released?: unknown } | null)?.released === 'boolean' ? (json as { released: boolean }) : undefined);

/** `exec` asks for handles: stable keys that its child keeps across a laptop's reconnects. */
export function lease(client: DaemonControlClient, credential: string, as: string | undefined, purpose: LeasePurpose): Promise<LeaseAnswer> {
  return client.call('lease', { credential, purpose, ...(as ? { as } : {}), ...(purpose === 'exec' ? { handle: true } : {}) }, parseLeaseAnswer);
}

export function release(client: DaemonControlClient, leases: LeaseAnswer[]): Promise<unknown> {
  return Promise.all(leases.map((l) => client.call('release', { token: l.token }, RELEASE_ANSWER).catch(() => undefined)));
}

/** `tether token PROVIDER [--as NAME]`: only the token on stdout, for apiKeyHelper and credential helpers. */
export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { as: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError(ExitCode.usage, 'usage: tether token PROVIDER [--as NAME]');
  const answer = await lease(DaemonControlClient.locate(), positionals[0] as string, values.as ?? (process.env.TETHER_AS || undefined), 'token');
  process.stdout.write(`${answer.token}\n`);
  return ExitCode.ok;
}
