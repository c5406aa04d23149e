/**
 * CPU time per relayed request, per process, read from /proc/<pid>/stat (utime + stime)
 * around a batch of small requests: unlike latency, it barely moves with the machine's load.
 *
 *   npx tsx bench/cpu-per-request.ts [--n 5000] [--concurrency 1,8] [--profile]
 *
 * --profile runs the daemon and the agent under `node --cpu-prof` and prints their top
 * self-time functions. Not part of `npm test`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StatField, procStatFields } from '../protocol/node/proc-stat.js';
import { ROOT } from '../test/support/tether-process.js';
import { World } from '../test/support/world.js';
import { profileOf, topSelf } from './cpu-profile.js';
import { treeOf } from './processes.js';
import { chatBody, send, target, type Target } from './http-client.js';
import { startMockProcess, stop } from './setup.js';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]! : fallback;
};
const N = Number(arg('--n', '5000'));
const LEVELS = arg('--concurrency', '1,8').split(',').map(Number);
const PROFILE = process.argv.includes('--profile');
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** utime + stime of a process, µs. */
function cpuUs(pid: number): number {
  const fields = procStatFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (Number(fields[StatField.utime]) + Number(fields[StatField.stime])) * TICK_US;
}

/** Read and write system calls so far (reads include the epoll wake-ups' reads, writes include writev). */
function syscalls(pid: number): { r: number; w: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return { r: Number(/syscr: (\d+)/.exec(io)?.[1]), w: Number(/syscw: (\d+)/.exec(io)?.[1]) };
}

/** Local ports of TCP sockets whose peer is `port` on loopback: new ones are new connections. */
function portsTalkingTo(port: number): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 3) continue;
      const [, local, remote] = cols as [string, string, string];
      if (parseInt(remote.split(':')[1]!, 16) === port) out.add(local);
    }
  }
  return out;
}

async function batch(t: Target, n: number, concurrency: number): Promise<void> {
  const body = chatBody('mock-1');
  let left = n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const r = await send(t, body);
        if (r.status !== 200) throw new Error(`${t.name}: answered ${r.status}`);
      }
    }),
  );
}

async function main(): Promise<void> {
  const mock = await startMockProcess();
  const profileDir = PROFILE ? mkdtempSync('/tmp/tt-prof-') : undefined;
  const before = process.env.NODE_OPTIONS;
  if (profileDir) {
    process.env.NODE_OPTIONS = `${before ?? ''} --require ${join(ROOT, 'bench/cpu-prof-preload.cjs')}`.trim();
    process.env.TETHER_CPU_PROF_DIR = profileDir;
  }
  let world: World | undefined;
  try {
    world = await World.start({ provider: mock });
    if (profileDir) {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
    const token = await world.token('openai');
    if (token.code !== 0) throw new Error(`tether token failed: ${token.stderr}`);
    const path = '/v1/chat/completions';
    const relay = target('relay', `${world.state.proxyUrl}/openai${path}`, { authorization: `Bearer ${token.stdout.trim()}` });
    const direct = target('direct', `${mock.url}${path}`, { authorization: `Bearer ${mock.keys.openai}` });
    const mockPort = Number(new URL(mock.url).port);
    const procs = { daemon: [world.daemon.pid], agent: [world.agent!.pid], mock: treeOf(mock.child.pid!) };
    const cpuOf = (pids: number[]) => pids.reduce((a, pid) => a + cpuUs(pid), 0);

    await batch(relay, 500, 4);
    await batch(direct, 500, 4);
    const lines: string[] = [`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${N} small requests per row`];
    for (const c of LEVELS) {
      for (const t of [direct, relay]) {
        const ports = portsTalkingTo(mockPort);
        const cpu0 = Object.fromEntries(Object.entries(procs).map(([k, pids]) => [k, cpuOf(pids)]));
        const io0 = { daemon: syscalls(procs.daemon[0]!), agent: syscalls(procs.agent[0]!) };
        const client0 = process.cpuUsage();
        const t0 = performance.now();
        await batch(t, N, c);
        const wall = performance.now() - t0;
        const client = process.cpuUsage(client0);
        const per = (k: keyof typeof procs) => (cpuOf(procs[k]) - cpu0[k]!) / N;
        const fresh = [...portsTalkingTo(mockPort)].filter((p) => !ports.has(p)).length;
        const io = (k: 'daemon' | 'agent') => {
          const now = syscalls(procs[k][0]!);
          return `${((now.r - io0[k].r) / N).toFixed(1)} reads + ${((now.w - io0[k].w) / N).toFixed(1)} writes`;
        };
        const parts = t.name === 'relay' ? [`daemon ${per('daemon').toFixed(0)} µs (${io('daemon')})`, `agent ${per('agent').toFixed(0)} µs (${io('agent')})`] : [];
        parts.push(`mock ${per('mock').toFixed(0)} µs`, `client ${((client.user + client.system) / N).toFixed(0)} µs`);
        lines.push(`${t.name.padEnd(6)} c=${c}: ${parts.join(', ')} per request; ${(N / (wall / 1000)).toFixed(0)} req/s; new connections to the mock: ${fresh}`);
        process.stderr.write(`${lines.at(-1)}\n`);
      }
    }
    relay.agent.destroy();
    direct.agent.destroy();
    await world.dispose();
    world = undefined;
    if (profileDir) {
      for (const [name, pid] of [['daemon', procs.daemon[0]!], ['agent', procs.agent[0]!]] as const) {
        const file = profileOf(profileDir, pid);
        if (!file) {
          lines.push(`${name}: no profile written`);
          continue;
        }
        const { totalMs, top } = topSelf(file, 30);
        lines.push('', `${name} (pid ${pid}): ${totalMs.toFixed(0)} ms busy; top self time:`);
        for (const f of top) lines.push(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.fn}`);
      }
      lines.push('', `profiles: ${profileDir}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await world?.dispose();
    await stop(mock.child);
    if (profileDir && !process.argv.includes('--keep')) rmSync(profileDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`cpu-per-request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
