import { readFileSync, readdirSync } from 'node:fs';
import { StatField, procStatFields } from '../../protocol/node/proc-stat.js';

/** Each thread of a process and its nice value, from /proc (field 19 of a task's stat). */
export function threadNice(pid: number): { tid: number; nice: number }[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((name) => {
    try {
      const fields = procStatFields(readFileSync(`/proc/${pid}/task/${name}/stat`, 'utf8'));
      return [{ tid: Number(name), nice: Number(fields[StatField.nice]) }];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}
