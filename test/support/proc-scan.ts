// Who carries a secret in its argv or environment: every process's /proc/PID/cmdline and
// /proc/PID/environ (readable as root), sampled while a login is pending and after it.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcHit {
  pid: number;
  where: 'cmdline' | 'environ';
  command: string;
}

export function processesHolding(needles: string[]): { hits: ProcHit[]; scanned: number } {
  const wanted = needles.filter((n) => n.length >= 6).map((n) => Buffer.from(n));
  const hits: ProcHit[] = [];
  let scanned = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let cmdline: Buffer;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`);
    } catch {
      continue; // gone meanwhile
    }
    scanned += 1;
    const command = cmdline.toString('utf8').split('\0').join(' ').trim().slice(0, 120);
    if (wanted.some((w) => cmdline.includes(w))) hits.push({ pid, where: 'cmdline', command });
    try {
      const environ = readFileSync(`/proc/${pid}/environ`);
      if (wanted.some((w) => environ.includes(w))) hits.push({ pid, where: 'environ', command });
    } catch {
      // gone, or a kernel thread
    }
  }
  return { hits, scanned };
}

/** Samples every `everyMs` until stopped; `stop()` returns every hit seen and how many samples ran. */
export function watchProcesses(needles: string[], everyMs = 25): { stop: () => { hits: ProcHit[]; samples: number; processes: number } } {
  const hits: ProcHit[] = [];
  let samples = 0;
  let processes = 0;
  const sample = () => {
    const r = processesHolding(needles);
    hits.push(...r.hits);
    samples += 1;
    processes = Math.max(processes, r.scanned);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { hits, samples, processes };
    },
  };
}
