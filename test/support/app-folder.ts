import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageApp } from '../../build/app.mjs';
import { ROOT } from './tether-process.js';

const TMP = join(ROOT, '.tmp');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The tray app's folder, as `npm run dist` makes it (build/app.mjs), made once per vitest run and
 * shared by the suites that run it (test files run in forks of one vitest process: its pid names
 * the folder). The first suite makes it; the others wait for it rather than build it again.
 */
export async function builtAppFolder(): Promise<string> {
  const run = process.ppid;
  const dir = join(TMP, `app-${run}`);
  const staged = `${dir}.staged`;
  const lock = `${dir}.lock`;
  mkdirSync(TMP, { recursive: true });
  for (const name of readdirSync(TMP)) {
    const other = /^app-(\d+)(\.staged|\.lock)?$/.exec(name);
    if (other && Number(other[1]) !== run && !alive(Number(other[1]))) rmSync(join(TMP, name), { recursive: true, force: true });
  }
  for (;;) {
    if (existsSync(staged)) return dir;
    try {
      mkdirSync(lock);
    } catch {
      await new Promise((r) => setTimeout(r, 100)); // another suite is making it
      continue;
    }
    try {
      if (!existsSync(staged)) {
        await stageApp({ dir, runBundle: false, log: () => {} });
        writeFileSync(staged, '');
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
