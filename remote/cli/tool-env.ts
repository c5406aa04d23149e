import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROVIDERS, baseUrlFor, envNames, providerSpec } from '../../protocol/providers.js';

/** What `tether env` / `tether exec` need to know of one lease. */
export interface LeasedName {
  name: string;
  provider: string;
  token: string;
  proxyUrl: string;
}

/** Variables to set (a string) and to remove (undefined: spawn() leaves those out, `env` prints unset). */
export type ToolEnvironment = Record<string, string | undefined>;

export const SHELLS = ['sh', 'bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * The variables a provider's usual clients read: base URL at our proxy, key = lease token.
 * Variables those clients would prefer over ours are removed. Where a tool takes its key
 * from a helper (Claude Code's apiKeyHelper), the key variable is removed as well: set, it
 * would win over the helper, and the helper is what fetches a fresh lease after a revocation.
 */
export function toolEnvironment(leases: readonly LeasedName[], helpers: ReadonlySet<string> = new Set()): ToolEnvironment {
  const vars: ToolEnvironment = {};
  for (const l of leases) {
    const spec = providerSpec(l.provider);
    if (!spec) continue;
    const names = envNames(spec, l.name);
    for (const name of names.overriding) vars[name] = undefined;
    for (const [name, value] of Object.entries(names.fixed ?? {})) vars[name] = value;
    for (const name of names.baseUrl) vars[name] = baseUrlFor(names, name, l.proxyUrl, l.name);
    for (const name of names.apiKey) vars[name] = helpers.has(spec.id) ? undefined : l.token;
  }
  return vars;
}

/**
 * What aider (LiteLLM) reads for each provider the registry knows: its model prefix, then
 * the base URL variable with the value `tether env` gives it and the key variable. One line each.
 */
export function litellmLines(proxyUrl: string): string[] {
  const lines: string[] = [];
  for (const spec of Object.values(PROVIDERS)) {
    const route = spec.litellm;
    if (!route) continue;
    const url = baseUrlFor(envNames(spec, spec.id), route.baseUrl, proxyUrl, spec.id);
    lines.push(`${spec.id}: --model ${route.modelPrefix}/MODEL reads ${route.baseUrl}=${url} and ${route.apiKey}`);
  }
  return lines;
}

/** Providers whose key a configured tool already fetches with a helper command. */
export function providersWithHelpers(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Set<string> {
  const found = new Set<string>();
  const claudeDir = env.CLAUDE_CONFIG_DIR || path.join(env.HOME || os.homedir(), '.claude');
  const files = [path.join(claudeDir, 'settings.json'), path.join(cwd, '.claude/settings.json'), path.join(cwd, '.claude/settings.local.json')];
  if (files.some((file) => typeof readJson(file)?.apiKeyHelper === 'string')) found.add('anthropic');
  return found;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function shellFrom(value: string | undefined): Shell | undefined {
  if (value === undefined) return undefined;
  return (SHELLS as readonly string[]).includes(value) ? (value as Shell) : undefined;
}

/** The shell to print for: `--shell`, else the login shell's name when it is fish, else POSIX. */
export function defaultShell(env: NodeJS.ProcessEnv = process.env): Shell {
  return path.basename(env.SHELL ?? '') === 'fish' ? 'fish' : 'sh';
}

const POSIX_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Lines a shell evaluates: `export`/`unset` for sh, bash and zsh; `set -gx`/`set -e` for fish. */
export function formatEnvironment(vars: ToolEnvironment, shell: Shell): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (!POSIX_NAME.test(name)) continue;
    if (shell === 'fish') lines.push(value === undefined ? `set -e ${name}` : `set -gx ${name} ${fishQuote(value)}`);
    else lines.push(value === undefined ? `unset ${name}` : `export ${name}=${posixQuote(value)}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

function posixQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** fish: inside single quotes only \\ and \' are escapes. */
function fishQuote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
