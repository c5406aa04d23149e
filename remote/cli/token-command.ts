import { parseArgs } from 'node:util';
import { CliError, ControlClient } from './control-client.js';
import { ExitCode } from './exit-codes.js';
import type { LeaseAnswer } from './types.js';

// `tether token` is a tool's key helper, run per request by some tools: this module and what it
// imports are all that command loads (no child_process, no crypto; bench/token-process.ts).

export type Purpose = 'token' | 'env' | 'exec';

/** `exec` asks for handles: stable keys that its child keeps across a laptop's reconnects. */
export function lease(client: ControlClient, provider: string, as: string | undefined, purpose: Purpose): Promise<LeaseAnswer> {
  return client.call<LeaseAnswer>('POST', 'lease', { provider, purpose, ...(as ? { as } : {}), ...(purpose === 'exec' ? { handle: true } : {}) });
}

export function release(client: ControlClient, leases: LeaseAnswer[]): Promise<unknown> {
  return Promise.all(leases.map((l) => client.call('POST', 'release', { token: l.token }).catch(() => undefined)));
}

/** `tether token PROVIDER [--as NAME]`: only the token on stdout, for apiKeyHelper and credential helpers. */
export async function tokenCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { as: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError(ExitCode.usage, 'usage: tether token PROVIDER [--as NAME]');
  const answer = await lease(ControlClient.locate(), positionals[0] as string, values.as ?? (process.env.TETHER_AS || undefined), 'token');
  process.stdout.write(`${answer.token}\n`);
  return ExitCode.ok;
}
