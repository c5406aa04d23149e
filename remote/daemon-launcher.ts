import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { StatField, readProcStat } from '../protocol/node/proc-stat.js';
import type { DaemonState } from './daemon.js';
import type { InUse, RetireAnswer } from './retirement.js';
import { remotePaths, type RemotePaths } from './paths.js';
import { ensurePrivateDir } from './private-files.js';

/**
 * glibc's malloc raises its mmap threshold to the largest block freed so far; after a few large
 * frames (up to 1 MB, which any laptop or a hostile peer can send) their buffers come from the
 * brk heap, which fragments and is not given back: the soak saw it drift 15 → 22 MiB with no
 * live object behind it. A fixed threshold keeps the daemon's memory where bench/SOAK.md shows
 * it. The user's own setting wins; other libcs ignore the variable.
 */
const DAEMON_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

export interface LaunchOptions {
  home: string;
  /** The server bundle (or any script whose `serve` command runs the daemon). */
  script: string;
  serveArgs: string[];
  timeoutMs?: number;
  /** Whether a running daemon is the one wanted (bundle, heartbeat); one that is not is asked to make way. */
  suits?: (state: DaemonState) => boolean;
  /** Asks a running daemon that does not suit to make way (its control API); resolves with its answer. */
  retire?: (state: DaemonState) => Promise<RetireAnswer>;
}

export interface Launched {
  state: DaemonState;
  /** False when a running daemon was reused. */
  started: boolean;
  /** A daemon that did not suit was stopped to start this one. */
  replaced?: DaemonState;
  /** A daemon that does not suit was kept, because others still use it. */
  kept?: { inUse: InUse };
}

/** The running daemon under `home`, if its daemon.json names a live process that answers on its socket. */
export async function runningDaemon(paths: RemotePaths): Promise<DaemonState | undefined> {
  let state: DaemonState;
  try {
    state = JSON.parse(fs.readFileSync(paths.daemonJson, 'utf8')) as DaemonState;
  } catch {
    return undefined;
  }
  if (!isAlive(state.pid)) return undefined;
  return (await answers(state.socket)) ? state : undefined;
}

/**
 * Reuses the daemon under `home` or starts one, detached (its own session, output to
 * run/daemon.log). A lock file (O_EXCL) makes two laptops attaching at once get one daemon.
 */
export async function ensureDaemon(opts: LaunchOptions): Promise<Launched> {
  const paths = remotePaths(opts.home);
  ensurePrivateDir(paths.home);
  ensurePrivateDir(paths.runDir);
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const lock = `${paths.runDir}/start.lock`;
  const suits = opts.suits ?? (() => true);
  for (;;) {
    const running = await runningDaemon(paths);
    if (running && suits(running)) return { state: running, started: false };
    if (takeLock(lock)) break;
    if (Date.now() > deadline) throw new Error(`timed out waiting for another start of the daemon (remove ${lock} if no start is under way)`);
    await sleep(50);
  }
  try {
    const again = await runningDaemon(paths);
    let replaced: DaemonState | undefined;
    if (again && (suits(again) || !opts.retire)) return { state: again, started: false };
    if (again && opts.retire) {
      // Still under the lock, so no other attach starts a daemon between the old one's exit and ours.
      const answer = await opts.retire(again);
      if (!answer.retiring) return { state: again, started: false, kept: { inUse: answer.inUse } };
      await waitForExit(again, deadline);
      replaced = again;
    }
    const log = fs.openSync(`${paths.runDir}/daemon.log`, 'a', 0o600);
    const child = spawn(process.execPath, [opts.script, 'serve', ...opts.serveArgs], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...DAEMON_MALLOC_ENV, ...process.env, TETHER_HOME: opts.home },
    });
    fs.closeSync(log);
    child.unref();
    const pid = child.pid;
    for (;;) {
      const state = await runningDaemon(paths);
      if (state && state.pid === pid) return { state, started: true, ...(replaced ? { replaced } : {}) };
      if (pid === undefined || !isAlive(pid)) throw new Error(`the daemon exited at start: see ${paths.runDir}/daemon.log`);
      if (Date.now() > deadline) throw new Error(`the daemon did not come up in time: see ${paths.runDir}/daemon.log`);
      await sleep(25);
    }
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** O_EXCL create; a lock left by a dead process (its pid inside) is taken over. */
function takeLock(file: string): boolean {
  try {
    fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number(fs.readFileSync(file, 'utf8').trim());
  if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
    fs.rmSync(file, { force: true });
    return takeLock(file);
  }
  return false;
}

/** The old daemon said it goes: wait for its exit (it ends its leases and says bye first); past the deadline, SIGTERM. */
async function waitForExit(state: DaemonState, deadline: number): Promise<void> {
  let termed = false;
  while (isAlive(state.pid)) {
    if (Date.now() > deadline - 2000 && !termed) {
      process.kill(state.pid, 'SIGTERM');
      termed = true;
    }
    if (Date.now() > deadline) throw new Error(`the old daemon (pid ${state.pid}) did not exit: stop it, then connect again`);
    await sleep(25);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** An exited daemon whose parent (an init that does not reap, in some containers) has not collected it yet. */
function isZombie(pid: number): boolean {
  return readProcStat(pid)?.[StatField.state] === 'Z';
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
