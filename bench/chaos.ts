/**
 * The chaos part of `npm run soak`: real daemon, agent and mock provider (its own process), tools
 * streaming through the relay all along, while the run SIGKILLs the agent mid-stream, freezes the
 * daemon (SIGSTOP 2 s), restarts the daemon under load and kills the provider mid-stream.
 * Checked: every request in flight at an event ends (completes, or a clean error: an HTTP error
 * status or a cut stream) within 3.5 s of it; no lease outlives its laptop; the processes that
 * live through a phase keep their fds and RSS. Prints a table (bench/SOAK.md takes it).
 */
import { once } from 'node:events';
import { World } from '../test/support/world.js';
import { fdCount } from '../test/support/flood.js';
import { rssMiB } from './measure.js';
import { startMockProcess, stop } from './setup.js';

export interface ChaosCounts {
  agentKills: number;
  daemonStops: number;
  daemonRestarts: number;
  providerKills: number;
}

export const FULL_CHAOS: ChaosCounts = { agentKills: 100, daemonStops: 20, daemonRestarts: 20, providerKills: 5 };
const WITHIN_MS = 3500;
const WORKERS = 4;

interface Attempt {
  start: number;
  end?: number;
  outcome?: 'complete' | 'http-error' | 'cut';
  status?: number;
}

interface Event {
  kind: keyof ChaosCounts;
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Tools streaming through the lease, WORKERS at a time, each getting a new token when its lease ends. */
function tools(world: World): { attempts: Attempt[]; stop: () => Promise<void> } {
  const attempts: Attempt[] = [];
  let running = true;
  const worker = async () => {
    let token: string | undefined;
    while (running) {
      if (!token) {
        const t = await world.token('openai');
        token = t.code === 0 ? t.stdout.trim() : undefined;
        if (!token) await sleep(200);
        continue;
      }
      const attempt: Attempt = { start: performance.now() };
      attempts.push(attempt);
      try {
        const res = await fetch(`${world.state.proxyUrl}/openai/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        attempt.status = res.status;
        attempt.outcome = res.status === 200 && text.includes('[DONE]') ? 'complete' : res.status >= 400 ? 'http-error' : 'cut';
        if (res.status === 401) token = undefined;
      } catch {
        attempt.outcome = 'cut';
        token = undefined;
      }
      attempt.end = performance.now();
    }
  };
  const loops = Array.from({ length: WORKERS }, worker);
  return {
    attempts,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function daemonLeases(world: World): Promise<number> {
  const res = await fetch(`${world.state.proxyUrl}/_tether/v1/status`, { headers: { 'tether-daemon-control': '2' } }).catch(() => undefined);
  if (!res?.ok) return -1;
  return ((await res.json()) as { leases: unknown[] }).leases.length;
}

export interface ChaosReport {
  rows: [string, string, string, boolean][];
  ok: boolean;
}

export async function chaos(counts: ChaosCounts, log: (line: string) => void): Promise<ChaosReport> {
  const mock = await startMockProcess({ tokenDelayMs: 40 });
  const port = Number(new URL(mock.url).port);
  let mockChild = mock.child;
  const world = await World.start({ provider: { url: mock.url, keys: mock.keys }, approve: 'allow', heartbeatMs: 1000 });
  const events: Event[] = [];
  const rows: ChaosReport['rows'] = [];
  let leaseLeftMs = 0;
  let leasesSurvived = 0;
  const load = tools(world);
  try {
    await sleep(1000);
    // Agent SIGKILLed mid-stream: the daemon sees its link close, its leases end at once.
    // Levels are taken after the first tenth of a phase's events: the first ones grow heaps and JIT caches once.
    const daemonPid = world.daemon.pid;
    const sample = (pid: number) => ({ fds: fdCount(pid), rss: rssMiB(pid) });
    const warm = (n: number) => Math.max(1, Math.round(n / 10));
    let daemonBefore = sample(daemonPid);
    const t0 = performance.now();
    const since = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
    log(`agent SIGKILL × ${counts.agentKills}…`);
    for (let i = 0; i < counts.agentKills; i += 1) {
      await sleep(300);
      const agent = world.agent!;
      const exited = once(agent.child, 'exit');
      events.push({ kind: 'agentKills', at: performance.now() });
      agent.child.kill('SIGKILL');
      await exited;
      // From the laptop's end (the process is gone): how long its leases outlive it.
      const killedAt = performance.now();
      let left = await daemonLeases(world);
      while (left !== 0 && performance.now() - killedAt < WITHIN_MS) {
        await sleep(50);
        left = await daemonLeases(world);
      }
      leaseLeftMs = Math.max(leaseLeftMs, performance.now() - killedAt);
      if (left !== 0) leasesSurvived += 1;
      await world.startAgent();
      if (i + 1 === warm(counts.agentKills)) daemonBefore = sample(daemonPid);
    }
    const daemonAfter = sample(daemonPid);

    // The daemon frozen for 2 s: shorter than the dead-man's 3 heartbeats, so the link lives and requests finish.
    const agentPid = world.agent!.pid;
    let agentBefore = sample(agentPid);
    log(`daemon SIGSTOP 2 s × ${counts.daemonStops}… (at ${since()})`);
    for (let i = 0; i < counts.daemonStops; i += 1) {
      await sleep(800);
      events.push({ kind: 'daemonStops', at: performance.now() });
      process.kill(world.daemon.pid, 'SIGSTOP');
      await sleep(2000);
      process.kill(world.daemon.pid, 'SIGCONT');
      if (i + 1 === warm(counts.daemonStops)) agentBefore = sample(agentPid);
    }
    log(`daemon restart under load × ${counts.daemonRestarts}… (at ${since()})`);
    for (let i = 0; i < counts.daemonRestarts; i += 1) {
      await sleep(500);
      events.push({ kind: 'daemonRestarts', at: performance.now() });
      await world.daemon.stop();
      await world.startDaemon();
      await world.waitForLaptops(1, 20_000);
    }
    const agentAfter = sample(agentPid);

    log(`provider SIGKILL mid-stream × ${counts.providerKills}… (at ${since()})`);
    for (let i = 0; i < counts.providerKills; i += 1) {
      await sleep(800);
      events.push({ kind: 'providerKills', at: performance.now() });
      const gone = once(mockChild, 'exit');
      mockChild.kill('SIGKILL');
      await gone;
      await sleep(300);
      mockChild = (await startMockProcess({ port, tokenDelayMs: 40, keys: mock.keys })).child;
    }
    await sleep(1500);
    await load.stop();

    const attempts = load.attempts.filter((a) => a.end !== undefined);
    for (const kind of Object.keys(counts) as (keyof ChaosCounts)[]) {
      const mine = events.filter((e) => e.kind === kind);
      let inFlight = 0;
      let late = 0;
      let slowest = 0;
      for (const e of mine) {
        for (const a of attempts) {
          if (a.start > e.at || a.end! < e.at) continue;
          inFlight += 1;
          slowest = Math.max(slowest, a.end! - e.at);
          if (a.end! - e.at > WITHIN_MS) late += 1;
        }
      }
      rows.push([`${kind}: ${mine.length} events, ${inFlight} requests in flight`, `slowest end ${Math.round(slowest)} ms after the event, ${late} late`, `all ≤ ${WITHIN_MS} ms`, late === 0]);
    }
    const outcomes = (o: Attempt['outcome']) => attempts.filter((a) => a.outcome === o).length;
    const hung = load.attempts.filter((a) => a.end === undefined).length;
    rows.push([`requests: ${attempts.length}`, `${outcomes('complete')} complete, ${outcomes('http-error')} clean HTTP errors, ${outcomes('cut')} cut streams, ${hung} never ended`, '0 never ended', hung === 0]);
    rows.push(['leases after their laptop was SIGKILLed', `${leasesSurvived} survived; the last one ended ${Math.round(leaseLeftMs)} ms after its agent exited`, `0, within ${WITHIN_MS} ms`, leasesSurvived === 0 && leaseLeftMs <= WITHIN_MS]);
    const flat = (a: { fds: number; rss: number }, b: { fds: number; rss: number }) => b.fds <= a.fds + 5 && b.rss <= a.rss * 1.1;
    rows.push([`daemon over ${counts.agentKills} agent kills (level after the first ${warm(counts.agentKills)})`, `fds ${daemonBefore.fds} → ${daemonAfter.fds}, RSS ${daemonBefore.rss.toFixed(1)} → ${daemonAfter.rss.toFixed(1)} MiB`, 'fds +5, RSS +10 % at most', flat(daemonBefore, daemonAfter)]);
    rows.push([`agent over ${counts.daemonStops} freezes and ${counts.daemonRestarts} restarts (level after the first ${warm(counts.daemonStops)} freezes)`, `fds ${agentBefore.fds} → ${agentAfter.fds}, RSS ${agentBefore.rss.toFixed(1)} → ${agentAfter.rss.toFixed(1)} MiB`, 'fds +5, RSS +10 % at most', flat(agentBefore, agentAfter)]);
    const leaks = world.leaks();
    rows.push(['secrets on the server disk or in a log', `${leaks.length}`, '0', leaks.length === 0]);
    return { rows, ok: rows.every((r) => r[3]) };
  } finally {
    await load.stop();
    await world.dispose();
    await stop(mockChild);
  }
}

// Alone: `npx tsx bench/chaos.ts [--quick]` (the soak runs it as a part).
if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const counts = quick ? { agentKills: 10, daemonStops: 3, daemonRestarts: 3, providerKills: 2 } : FULL_CHAOS;
  chaos(counts, (l) => process.stderr.write(`${l}\n`)).then(
    (r) => {
      for (const [what, figure, goal, ok] of r.rows) process.stdout.write(`| ${what} | ${figure} | ${goal} | ${ok ? 'met' : '**missed**'} |\n`);
      process.exitCode = r.ok ? 0 : 1;
    },
    (err: unknown) => {
      process.stderr.write(`chaos: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
