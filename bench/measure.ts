import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { chatBody, eventDelays, pacedStream, send, type Target } from './http-client.js';
import { percentile, summarize, type Summary } from './stats.js';

export type PerTarget = Record<Target['name'], Summary>;

/**
 * The targets in a new order for each turn (seeded, so runs repeat): whatever one path leaves
 * behind (Portkey's idle 25 ms in a stream, a GC) falls on the next one, and a fixed order
 * would hand it to the same path every time.
 */
function turns(targets: Target[], seed = 1): () => Target[] {
  let state = seed >>> 0;
  const next = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return () => {
    const order = [...targets];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order;
  };
}

/** Small non-streaming requests, one at a time, the targets taking turns so drift hits all alike. */
export async function smallLatency(targets: Target[], n: number, warmup = 200): Promise<PerTarget> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const body = chatBody('mock-1');
  const order = turns(targets);
  for (let i = 0; i < warmup + n; i++) {
    for (const t of order()) {
      const r = await send(t, body);
      if (r.status !== 200) throw new Error(`${t.name}: small request answered ${r.status}`);
      if (i >= warmup) samples.get(t.name)!.push(r.total);
    }
  }
  return Object.fromEntries(targets.map((t) => [t.name, summarize(samples.get(t.name)!)])) as PerTarget;
}

/**
 * Time to first byte of a stream, targets taking turns. The warm-up runs the streaming path
 * itself until V8 has compiled it: the small requests before it do not reach that code, and
 * its first seconds otherwise fill the top percent with JIT work on every path.
 */
export async function streamTtfb(targets: Target[], n: number, warmup = 200): Promise<PerTarget> {
  const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const order = turns(targets);
  for (let i = 0; i < warmup + n; i++) {
    for (const t of order()) {
      const s = await pacedStream(t, 2, 1000);
      if (i >= warmup) samples.get(t.name)!.push(s.ttfb);
    }
  }
  return Object.fromEntries(targets.map((t) => [t.name, summarize(samples.get(t.name)!)])) as PerTarget;
}

/**
 * `perTarget` concurrent streams of `count` events at `rate`/s per target; per-event delay and
 * reads per event. The targets take turns (each path measured alone, so one path's CPU,
 * Portkey's above all, never shows up as another's delay on a 2-core box), in `rounds`
 * rounds, every other one in reverse order, so a drift in the machine's load over the
 * minutes this takes falls on every path alike. Each stream is as long as asked.
 */
export async function pacedEvents(targets: Target[], perTarget: number, count: number, rate: number, rounds = 2): Promise<Record<Target['name'], Summary & { readsPerEvent: number; events: number }>> {
  const runs: { t: Target; s: Awaited<ReturnType<typeof pacedStream>> }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      const streams = await Promise.all(Array.from({ length: perTarget }, () => pacedStream(t, count, rate)));
      runs.push(...streams.map((s) => ({ t, s })));
    }
  }
  const out: Partial<Record<Target['name'], Summary & { readsPerEvent: number; events: number }>> = {};
  for (const t of targets) {
    const mine = runs.filter((r) => r.t === t).map((r) => r.s);
    const events = mine.reduce((a, s) => a + s.arrivals.length, 0);
    const reads = mine.reduce((a, s) => a + s.reads, 0);
    out[t.name] = { ...summarize(mine.flatMap(eventDelays)), readsPerEvent: reads / Math.max(1, events), events };
  }
  return out as Record<Target['name'], Summary & { readsPerEvent: number; events: number }>;
}

/** Closed loop: `concurrency` clients each sending the next request when the last answered, for `seconds`. */
export async function closedLoop(t: Target, concurrency: number, seconds: number): Promise<{ rps: number; p99: number; p50: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const body = chatBody('mock-1');
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const r = await send(t, body).catch(() => ({ status: 0, total: NaN }));
        if (r.status === 200) latencies.push(r.total);
        else errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { rps: latencies.length / elapsed, p99: percentile(latencies, 99), p50: percentile(latencies, 50), errors };
}

/** The highest concurrency step whose p99 stays under `p99Ms`, and what it achieved. */
export async function capacity(t: Target, p99Ms: number, seconds: number): Promise<{ rps: number; p99: number; concurrency: number; steps: string[] }> {
  let best = { rps: 0, p99: NaN, concurrency: 0 };
  const steps: string[] = [];
  for (const c of [1, 2, 4, 8, 16, 32, 64]) {
    const r = await closedLoop(t, c, seconds);
    steps.push(`c=${c}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(2)} ms${r.errors ? `, ${r.errors} errors` : ''}`);
    if (r.p99 < p99Ms && r.errors === 0 && r.rps > best.rps) best = { rps: r.rps, p99: r.p99, concurrency: c };
    if (r.p99 >= p99Ms * 2) break;
  }
  return { ...best, steps };
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** RSS of the relay's processes at rest, and the most it reached with 100 streams open and flowing. */
export async function rssPer100Streams(t: Target, pids: number[]): Promise<{ before: number; during: number }> {
  const total = () => pids.reduce((a, pid) => a + rssMiB(pid), 0);
  const before = total();
  const running = Array.from({ length: 100 }, () => pacedStream(t, 100, 20).catch(() => undefined));
  let during = 0;
  for (let i = 0; i < 8; i++) {
    await delay(400);
    during = Math.max(during, total());
  }
  await Promise.all(running);
  return { before, during };
}

/**
 * Small-request latency through the relay without and with one client sitting on a 50 MB
 * stream it does not read. The two states take turns in `rounds` rounds, so drift in the
 * machine's load falls on both alike.
 */
export async function headOfLine(t: Target, n: number, rounds = 5): Promise<{ baseline: Summary; stalled: Summary }> {
  const body = chatBody('mock-1');
  const run = async (count: number, into: number[]) => {
    for (let i = 0; i < count; i++) into.push((await send(t, body)).total);
  };
  await run(200, []);
  const baseline: number[] = [];
  const stalled: number[] = [];
  const perRound = Math.ceil(n / rounds);
  for (let round = 0; round < rounds; round++) {
    await run(perRound, baseline);
    let stalledRes: http.IncomingMessage | undefined;
    await send(t, chatBody('mock-big-50mb', true), { stall: (res) => ((stalledRes = res), res.pause()) });
    await delay(500); // let the window fill and the relay stop reading upstream
    await run(perRound, stalled);
    stalledRes?.destroy();
    await delay(200); // the abort reaches the provider before the next baseline
  }
  return { baseline: summarize(baseline), stalled: summarize(stalled) };
}
