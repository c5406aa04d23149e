import { readFileSync } from 'node:fs';
import { readProcFile } from './proc-file.js';

/**
 * /proc/PID/stat (proc(5)), read the one safe way: the command name, field 2, sits in
 * parentheses and may hold spaces and ')', so fields are counted from the last ')'.
 */

/** Where a field of proc(5)'s numbering (1-based) lands in procStatFields()'s answer. */
export const StatField = {
  state: 3 - 3,
  ppid: 4 - 3,
  utime: 14 - 3,
  stime: 15 - 3,
  nice: 19 - 3,
  starttime: 22 - 3,
} as const;

/** The fields after the command name: [state, ppid, pgrp, …] (see StatField). */
export function procStatFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trimEnd().split(' ');
}

/** A process's (or, with `task/TID`, a thread's) stat fields; undefined once it is gone or where /proc is not. */
export function readProcStat(pid: number | string, procRoot = '/proc'): string[] | undefined {
  try {
    return procStatFields(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

export async function readProcStatAsync(pid: number, procRoot = '/proc'): Promise<string[] | undefined> {
  try {
    return procStatFields(await readProcFile(`${procRoot}/${pid}/stat`));
  } catch {
    return undefined;
  }
}
