import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line a person got wrong: exit 1 with this one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** node:util parseArgs, strict, with its long errors cut to one line. */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: T) {
  try {
    return parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    const see = `(see \`tether ${command.split(' ')[0]} --help\`)`;
    if (unknown) throw new UsageError(`tether ${command}: unknown option ${unknown[1]} ${see}`);
    throw new UsageError(`tether ${command}: ${message.split('\n')[0]!.replace(/\. To specify.*$/, '')} ${see}`);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `60s`, `10m`, `1h` (a bare number is milliseconds). */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} ${text}: expected a duration like 500ms, 60s, 10m or 1h`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
  if (ms <= 0) throw new UsageError(`${flag} must be more than 0`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
