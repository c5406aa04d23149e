import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { HELPER_NICE, helperThreadIds } from '../protocol/node/helper-threads.js';
import { StatField, procStatFields } from '../protocol/node/proc-stat.js';

/** A process and its descendants (tsx runs the mock in a child node). */
export function treeOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(procStatFields(readFileSync(`/proc/${d}/stat`, 'utf8'))[StatField.ppid]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

/**
 * Puts the helper threads (all but the main thread) of the bench's own processes out of the
 * relay's way: SCHED_IDLE where `chrt` (util-linux) is there, else nice 19. Left at the
 * default, the load generator's, the mock's and Portkey's GC and JIT helpers hold up
 * whichever path wakes the most processes on a 2-core box, and that is the relay: its p99
 * then measures them (the daemon and the agent lower their own, remote/helper-threads.ts).
 * SCHED_IDLE rather than nice: a CPU that runs only such threads counts as idle when the
 * kernel places a woken thread, which nice 19 does not give.
 */
export function lowerHelperThreadsOf(pids: number[]): { threads: number; how: 'SCHED_IDLE' | 'nice 19' } {
  const tids = pids.flatMap((pid) => helperThreadIds(pid));
  let how: 'SCHED_IDLE' | 'nice 19' = 'SCHED_IDLE';
  let threads = 0;
  for (const tid of tids) {
    try {
      if (how === 'SCHED_IDLE') execFileSync('chrt', ['--idle', '-p', '0', String(tid)], { stdio: 'ignore' });
      else os.setPriority(tid, HELPER_NICE);
      threads += 1;
    } catch (err) {
      // No chrt here: nice for this thread and the rest. A thread that ended meanwhile is skipped.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      how = 'nice 19';
      try {
        os.setPriority(tid, HELPER_NICE);
        threads += 1;
      } catch {
        // ended meanwhile
      }
    }
  }
  return { threads, how };
}
