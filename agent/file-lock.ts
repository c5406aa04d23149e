import { promises as fs } from 'node:fs';
import { AgentError } from './errors.js';

export interface FileLockOptions {
  /** How long to wait for another holder before giving up. */
  waitMs?: number;
  /** A lock older than this is taken to be left by a process that hung or died mid-way. */
  staleMs?: number;
}

const POLL_MS = 25;

/**
 * Runs `fn` while holding `lockPath`, a file created with O_EXCL holding our pid: one process
 * at a time on this machine (the tray app and a `tether agent` may share one vault). A lock
 * whose pid is gone, or that is older than `staleMs`, is broken.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const waitMs = opts.waitMs ?? 20_000;
  const staleMs = opts.staleMs ?? 30_000;
  const giveUpAt = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(lockPath, staleMs)) {
      await fs.rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() >= giveUpAt) throw new AgentError('lock-busy', `${lockPath} is held by another tether process for over ${Math.round(waitMs / 1000)} s: if none is running, delete it`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
  } catch {
    return false; // gone already, or being written: look again
  }
  if (Date.now() - mtimeMs > staleMs) return true;
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - mtimeMs > 1000; // a holder between open and write
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
