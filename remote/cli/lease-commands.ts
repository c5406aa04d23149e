import { spawn } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { CliError, DaemonControlClient } from './control-client.js';
import { answerOf } from './daemon-answers.js';
import { ExitCode } from './exit-codes.js';
import { lease, release } from './token-command.js';
import type { LeasePurpose } from '../../protocol/daemon-control-schemas.js';
import { SHELLS, defaultShell, formatEnvironment, providersWithHelpers, shellFrom, toolEnvironment, type ToolEnvironment } from './tool-env.js';
import type { LeaseAnswer } from '../../protocol/daemon-control.js';
import { providerSpec } from '../../protocol/providers.js';


/** The credential names to lease: the ones asked for, or everything the chosen laptop offers. */
async function chooseProviders(client: DaemonControlClient, list: string | undefined, as: string | undefined): Promise<string[]> {
  if (list !== undefined) {
    const names = list.split(',').map((p) => p.trim()).filter(Boolean);
    if (names.length === 0) throw new CliError(ExitCode.usage, '--provider needs at least one name, e.g. --provider openai,anthropic');
    return [...new Set(names)];
  }
  const status = await client.call('status', {}, answerOf('status'));
  const laptops = as ? status.laptops.filter((l) => l.name === as) : status.laptops;
  const connected = status.laptops.map((l) => l.name).join(', ');
  if (status.laptops.length === 0) {
    throw new CliError(ExitCode.noLaptop, 'no laptop is connected to this server: connect one with `tether agent --connect …` or the tray app');
  }
  if (as && laptops.length === 0) throw new CliError(ExitCode.usage, `no laptop named "${as}" is connected (connected: ${connected}): fix --as or TETHER_AS`);
  if (laptops.length > 1) throw new CliError(ExitCode.usage, `several laptops are connected (${connected}): pick one with --as NAME or TETHER_AS`);
  // A subscription login is lent to one vendor's CLI and shares its variables with that vendor's
  // API key (ANTHROPIC_BASE_URL): leased only when named, `--provider claude-subscription`.
  const names = laptops[0]?.providers.filter((p) => !providerSpec(p.provider)?.subscription).map((p) => p.name) ?? [];
  if (names.length === 0 && laptops[0]?.providers.length) throw new CliError(ExitCode.usage, `${laptops[0].name} lends only subscription logins, leased when named: --provider ${laptops[0].providers.map((p) => p.name).join(',')}`);
  if (names.length === 0) throw new CliError(ExitCode.unknownCredential, `${laptops[0]?.name} lends no credentials yet: add one on the laptop with \`tether creds add\``);
  return names;
}

/** Leases every name, or none: on a failure the ones already granted are released. */
async function leaseAll(client: DaemonControlClient, names: string[], as: string | undefined, purpose: LeasePurpose): Promise<LeaseAnswer[]> {
  const leases: LeaseAnswer[] = [];
  try {
    for (const name of names) leases.push(await lease(client, name, as, purpose));
  } catch (err) {
    await release(client, leases);
    throw err;
  }
  return leases;
}

/**
 * Environment variables the provider's usual clients read: base URL at our proxy, API key =
 * lease token; undefined = removed (a variable that would win over ours or over a helper).
 */
export function leaseVariables(leases: LeaseAnswer[]): ToolEnvironment {
  return toolEnvironment(leases, providersWithHelpers());
}

const LEASE_OPTIONS = { provider: { type: 'string' }, as: { type: 'string' } } as const;

/** `tether env [--provider p,q] [--as NAME] [--shell sh|bash|zsh|fish]`: lines for a shell to eval. */
export async function envCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...LEASE_OPTIONS, shell: { type: 'string' } }, allowPositionals: false });
  const shell = values.shell === undefined ? defaultShell() : shellFrom(values.shell);
  if (!shell) throw new CliError(ExitCode.usage, `--shell must be one of ${SHELLS.join(', ')}`);
  const as = values.as ?? (process.env.TETHER_AS || undefined);
  const client = DaemonControlClient.locate();
  const leases = await leaseAll(client, await chooseProviders(client, values.provider, as), as, 'env');
  process.stdout.write(formatEnvironment(leaseVariables(leases), shell));
  return ExitCode.ok;
}

/** `tether exec [--provider p,q] [--as NAME] -- CMD ARGS…`: run CMD with leases in its environment, release them after. */
export async function execCommand(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const { values, positionals } = parseArgs({ args: dash >= 0 ? args.slice(0, dash) : args, options: LEASE_OPTIONS, allowPositionals: true });
  const command = dash >= 0 ? [...positionals, ...args.slice(dash + 1)] : positionals;
  if (command.length === 0) throw new CliError(ExitCode.usage, 'usage: tether exec [--provider p,q] [--as NAME] -- COMMAND [ARGS…]');
  const as = values.as ?? (process.env.TETHER_AS || undefined);
  const client = DaemonControlClient.locate();
  const leases = await leaseAll(client, await chooseProviders(client, values.provider, as), as, 'exec');
  const child = spawn(command[0] as string, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...leaseVariables(leases) } });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`tether: cannot run ${command[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      resolve(127);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
  });
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  await release(client, leases);
  return code;
}
