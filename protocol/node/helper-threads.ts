import { readdirSync } from 'node:fs';
import os from 'node:os';
import { isMainThread } from 'node:worker_threads';

/** The lowest priority a thread can have under the normal scheduler. */
export const HELPER_NICE = 19;

/**
 * Puts this process's threads other than the event loop (V8's GC and compiler helpers, and
 * libuv's pool where it has started) at nice 19, on Linux, best effort. When a relay frame
 * wakes the event loop while a helper runs, the kernel then runs the event loop ahead of it
 * instead of letting the helper finish its time slice (up to a scheduler tick, 4 ms on
 * the bench's VM): on 2 cores those waits were much of the relay's p99 (docs/ARCHITECTURE.md,
 * "Helper threads"). Helpers still get every idle cycle; on a saturated machine their work
 * waits (JIT) or the event loop finishes it (GC).
 * Returns how many threads it lowered. Threads started later keep the default priority.
 */
export function lowerHelperThreadPriority(): number {
  if (process.platform !== 'linux' || !isMainThread) return 0;
  let lowered = 0;
  for (const tid of helperThreadIds(process.pid)) {
    try {
      os.setPriority(tid, HELPER_NICE);
      lowered += 1;
    } catch {
      // the thread ended meanwhile
    }
  }
  return lowered;
}

/** The threads of a process other than its main one (which runs the event loop); none where /proc is not. */
export function helperThreadIds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter((tid) => tid !== pid);
  } catch {
    return [];
  }
}
