import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) that self time needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  ms: number;
  share: number;
}

/** bench/cpu-prof-preload.cjs writes <pid>.cpuprofile. */
export function profileOf(dir: string, pid: number): string | undefined {
  return readdirSync(dir).includes(`${pid}.cpuprofile`) ? join(dir, `${pid}.cpuprofile`) : undefined;
}

/** Functions by self time (time on top of the stack), idle and GC kept as V8 names them. */
export function topSelf(file: string, n = 25): { totalMs: number; top: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  }
  const busy = total - (selfUs.get('(idle)') ?? 0);
  const top = [...selfUs.entries()]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: us / 1000, share: us / Math.max(1, busy) }));
  return { totalMs: busy / 1000, top };
}
