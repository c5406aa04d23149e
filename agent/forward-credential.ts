import { execFile } from 'node:child_process';
import { AgentError } from './errors.js';
import { childEnv } from './child-env.js';

/**
 * Forward mode: a credential whose secret is the output of a command the laptop's user
 * configured (`gcloud auth print-access-token`). The command and its arguments come from
 * config.json only; nothing a server sends reaches them. It runs without a shell unless the
 * string needs one (see planCommand), with the agent's environment minus Tether's own secrets.
 */

export interface Minted {
  secret: string;
  expiresAt: number;
}

export interface CommandPlan {
  file: string;
  args: string[];
  /** True when the string uses shell syntax and runs under `sh -c` (cmd.exe on Windows). */
  shell: boolean;
}

/** Pipes, lists, redirections, expansions, globs, comments, line breaks: only a shell understands these. */
const SHELL_SYNTAX = /[|&;<>()$`*?[\]{}~#\n\r]/;
/** `VAR=value cmd` sets a variable for the command: also shell syntax. */
const LEADING_ASSIGNMENT = /^\s*[A-Za-z_][A-Za-z0-9_]*=/;
const RUN_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;
const SECRET_SHAPE = /^[\x21-\x7e]{1,8192}$/;

/** How the user's string runs: split into words (quotes and backslashes honoured) unless it needs a shell. */
export function planCommand(command: string): CommandPlan {
  if (SHELL_SYNTAX.test(command) || LEADING_ASSIGNMENT.test(command)) return { file: command, args: [], shell: true };
  const words = splitWords(command);
  if (!words.length) throw new AgentError('bad-config', 'the command is empty');
  return { file: words[0]!, args: words.slice(1), shell: false };
}

/** POSIX-style word splitting without expansions (the caller has ruled those out). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new AgentError('bad-config', 'the command has an unclosed single quote');
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < text.length && text[i] !== '"'; i++) word += text[i] === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\') ? text[++i] : text[i];
      if (i >= text.length) throw new AgentError('bad-config', 'the command has an unclosed double quote');
    } else if (c === '\\') {
      word = (word ?? '') + (text[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** `50m`, `30s`, `1h`, `90000ms` or a bare number of seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new AgentError('bad-config', `--ttl ${text.slice(0, 20)}: use a duration such as 50m, 30s or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function runCommand(name: string, plan: CommandPlan, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(plan.file, plan.args, { shell: plan.shell, env, timeout: RUN_TIMEOUT_MS, maxBuffer: MAX_OUTPUT, windowsHide: true }, (err, stdout) => {
      if (!err) return resolve(stdout);
      // Neither stdout nor stderr goes into the message: it may reach the server in a lease.deny.
      const how = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'was not found' : err.killed ? 'timed out' : `failed (exit ${String(err.code ?? '?')})`;
      reject(new AgentError('mint-failed', `the command of "${name}" ${how}: run it at a terminal on the laptop to see why`));
    });
  });
}

/**
 * One forward credential's minted secret, cached in memory until shortly before its TTL and
 * minted again only when asked (an approved grant, or a renewal of a live lease).
 */
export class CommandToken {
  private cached: Minted | undefined;
  private inflight: Promise<Minted> | undefined;
  /** How many times the command ran: for status and tests. */
  runs = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    readonly ttlMs: number,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** A fifth of the TTL before expiry (at least 1.5 s, at most 5 min), a secret is no longer handed out. */
  refreshAt(minted: Minted): number {
    return minted.expiresAt - Math.min(5 * 60_000, Math.max(1500, Math.floor(this.ttlMs / 5)));
  }

  /** The cached secret while it is fresh, else a new one (concurrent callers share one run). */
  current(): Promise<Minted> {
    if (this.cached && Date.now() < this.refreshAt(this.cached)) return Promise.resolve(this.cached);
    return (this.inflight ??= this.mint().finally(() => (this.inflight = undefined)));
  }

  forget(): void {
    this.cached = undefined;
  }

  private async mint(): Promise<Minted> {
    const started = Date.now();
    this.runs++;
    const secret = (await runCommand(this.name, planCommand(this.command), childEnv(this.env))).trim();
    if (!SECRET_SHAPE.test(secret)) throw new AgentError('mint-failed', `the command of "${this.name}" printed no usable secret: it must print one token (printable, no spaces)`);
    this.cached = { secret, expiresAt: started + this.ttlMs };
    return this.cached;
  }
}
