import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

export interface Leak {
  file: string;
  needle: string;
}

/**
 * Every file under `paths` (recursively; sockets and links skipped) searched for each
 * needle's bytes. Needles are the secrets a test made: API keys, lease tokens.
 */
export function scanForSecrets(paths: string[], needles: string[]): Leak[] {
  const wanted = needles.filter((n) => n.length >= 8).map((n) => ({ needle: n, bytes: Buffer.from(n) }));
  const leaks: Leak[] = [];
  const visit = (path: string) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (stat.isFile()) {
      const content = readFileSync(path);
      for (const { needle, bytes } of wanted) if (content.includes(bytes)) leaks.push({ file: path, needle: `${needle.slice(0, 6)}…` });
    }
  };
  paths.forEach(visit);
  return leaks;
}

/** Lists every file under a folder, so a test can say what it scanned. */
export function countFiles(path: string): number {
  let n = 0;
  const visit = (p: string) => {
    const stat = lstatSync(p);
    if (stat.isDirectory()) readdirSync(p).forEach((e) => visit(join(p, e)));
    else n += 1;
  };
  visit(path);
  return n;
}

/** Processes on this machine whose command line holds one of `needles` (pid and a hint, never the needle). */
export function argvLeaks(needles: string[]): { pid: number; command: string; cmdline: string }[] {
  const wanted = needles.filter((n) => n.length >= 8);
  const found: { pid: number; command: string; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (wanted.some((n) => cmdline.includes(n))) found.push({ pid: Number(entry), command: cmdline.split('\0')[0] ?? '', cmdline });
  }
  return found;
}
