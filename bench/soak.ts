// `npm run soak`: a million fuzzed frames at the real daemon and a real agent, their memory and
// fds sampled as it runs; then the floods (bench/flood.ts) and the chaos run (bench/chaos.ts),
// each writing its section of bench/SOAK.md. SOAK_PARTS=fuzz,flood,chaos picks parts. Fails unless both end at most 10 % above where they stood after the
// first 100,000 frames (a level that falls is no leak). FUZZ_SEED=n replays a run; SOAK_FRAMES=n changes its length.
// A level is the median of a few samples (those from 100,000 frames on, and the last ones):
// one sample's RSS moves with where V8's collector and the allocator happen to be.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { runCampaign } from '../test/support/fuzz/campaign.js';
import type { TargetStats } from '../test/support/fuzz/daemon-target.js';
import { CRASH_OUTPUT } from '../test/support/fuzz/oracle.js';
import { runSeed } from '../test/support/fuzz/prng.js';
import { ROOT } from '../test/support/tether-process.js';
import { World } from '../test/support/world.js';
import { fdCount } from '../test/support/flood.js';
import { FULL_CHAOS, chaos } from './chaos.js';
import { rssMiB } from './measure.js';
import { floodSoak } from './flood.js';

const FRAMES = Number(process.env.SOAK_FRAMES ?? 1_000_000);
const SAMPLE_EVERY = Math.max(5_000, Math.round(FRAMES / 50));
const BASELINE_AT = Math.min(100_000, FRAMES / 4);
/** Samples in each level. */
const LEVEL_OF = 5;
/**
 * glibc's malloc raises its mmap threshold to the largest block freed so far, so after a few
 * big frames (up to 1 MB) their buffers come from the brk heap, which fragments and is never
 * given back: [heap] then drifts (15 → 22 MiB over 300,000 frames) with no live object behind
 * it (heap snapshots at 50,000 and 250,000 frames differ by < 1 MB, mostly compiled code).
 * A fixed threshold keeps that drift out of the figures, so what is left to grow is a leak. The
 * daemon that `tether attach` starts runs with the same setting (remote/daemon-launcher.ts); the
 * agent does not (its input comes from daemons it chose to connect to).
 */
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };
const TOLERANCE = 0.1;
const RESULTS = join(ROOT, 'bench/SOAK.md');
const SECTION = 'Protocol fuzzing';

interface Usage {
  rssKiB: number;
  fds: number;
}

function usageOf(pid: number): Usage {
  return { rssKiB: Math.round(rssMiB(pid) * 1024), fds: fdCount(pid) };
}

interface Sample {
  frames: number;
  seconds: number;
  daemon: Usage;
  agent: Usage;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const change = (end: number, base: number) => `${end >= base ? '+' : '−'}${(Math.abs(end / base - 1) * 100).toFixed(1)} %`;

function table(samples: Sample[]): string {
  const rows = samples.map((s) => `| ${s.frames.toLocaleString('en-US')} | ${s.seconds.toFixed(0)} | ${mib(s.daemon.rssKiB)} | ${s.daemon.fds} | ${mib(s.agent.rssKiB)} | ${s.agent.fds} |`);
  return ['| frames | s | daemon RSS | daemon fds | agent RSS | agent fds |', '|---:|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

const PARTS = new Set((process.env.SOAK_PARTS ?? 'fuzz,flood,chaos').split(','));

/** Writes (or replaces) one `## title` section of bench/SOAK.md. */
function writeSection(title: string, body: string): void {
  const heading = `## ${title}`;
  const section = `${heading}\n\n${body.trimEnd()}\n`;
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Soak results\n\n';
  const at = old.indexOf(heading);
  const next = at < 0 ? `${old.trimEnd()}\n\n${section}` : old.slice(0, at) + section + (old.slice(at + heading.length).match(/\n## [\s\S]*$/)?.[0] ?? '');
  writeFileSync(RESULTS, `${next.trimEnd()}\n`);
}

/** A part's rows as the bench's table: measure, figure, target, met. */
function partTable(rows: [string, string, string, boolean][]): string {
  return ['| measure | figure | target | |', '|---|---|---|---|', ...rows.map(([what, figure, goal, ok]) => `| ${what} | ${figure} | ${goal} | ${ok ? 'met' : '**missed**'} |`)].join('\n');
}

async function part(title: string, intro: string, run: () => Promise<{ rows: [string, string, string, boolean][]; ok: boolean }>): Promise<boolean> {
  const started = Date.now();
  const { rows, ok } = await run();
  const table = partTable(rows);
  console.log(`\n${title}\n${table}\n`);
  const when = `Latest \`npm run soak\`: ${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s, ${ok ? '**passed**' : '**failed**'}; ${os.cpus().length} cores, Node ${process.version}, 1-min load average ${os.loadavg()[0]!.toFixed(2)} at the end.`;
  writeSection(title, `${intro}\n\n${when}\n\n${table}`);
  return ok;
}

async function main(): Promise<number> {
  Object.assign(process.env, MALLOC_ENV); // the daemon and the agents inherit it
  let ok = true;
  if (PARTS.has('fuzz')) ok = (await fuzzPart()) === 0 && ok;
  if (PARTS.has('flood')) {
    ok =
      (await part(
        'Floods',
        'test/flood.e2e.test.ts\'s floods (1,000 connections of each kind that never authenticate) one listener at a time against the real daemon, a tool\'s requests through the laptop timed idle and during them (bench/flood.ts).',
        () => floodSoak((l) => console.log(l)),
      )) && ok;
  }
  if (PARTS.has('chaos')) {
    ok =
      (await part(
        'Chaos',
        `${FULL_CHAOS.agentKills} × SIGKILL of the agent mid-stream, ${FULL_CHAOS.daemonStops} × SIGSTOP of the daemon for 2 s, ${FULL_CHAOS.daemonRestarts} × daemon restart under load, ${FULL_CHAOS.providerKills} × the mock provider SIGKILLed mid-stream, with 4 tools streaming through the relay all along (bench/chaos.ts). A request is clean when it completes, gets an HTTP error status, or is cut (a stream whose head was already sent can only be cut); none may last past 3.5 s after an event, none may never end.`,
        () => chaos(FULL_CHAOS, (l) => console.log(l)),
      )) && ok;
  }
  return ok ? 0 : 1;
}

async function fuzzPart(): Promise<number> {
  const seed = runSeed();
  console.log(`soak: FUZZ_SEED=${seed}, ${FRAMES.toLocaleString('en-US')} frames, a sample every ${SAMPLE_EVERY.toLocaleString('en-US')}`);
  const world = await World.start({ approve: 'allow' });
  const samples: Sample[] = [];
  const started = Date.now();
  let agentPid = 0;
  try {
    const run = await runCampaign(world, {
      seed,
      frames: FRAMES,
      sampleEvery: SAMPLE_EVERY,
      onSample: (frames, agent) => {
        agentPid = agent.agent.pid;
        const sample = { frames, seconds: (Date.now() - started) / 1000, daemon: usageOf(world.daemon.pid), agent: usageOf(agentPid) };
        samples.push(sample);
        console.log(`${String(frames).padStart(8)} frames ${sample.seconds.toFixed(0).padStart(4)} s  daemon ${mib(sample.daemon.rssKiB)} ${sample.daemon.fds} fds  agent ${mib(sample.agent.rssKiB)} ${sample.agent.fds} fds`);
      },
    });
    const processes = [world.daemon, world.agent!, run.agent.agent];
    const alive = processes.every((p) => !p.exited && !CRASH_OUTPUT.test(p.text));
    const served = alive && (await run.agent.served()) && (await world.token('openai')).code === 0;
    const first = samples.findIndex((s) => s.frames >= BASELINE_AT);
    const base = samples.slice(first, first + LEVEL_OF);
    const end = samples.slice(-LEVEL_OF);
    const level = (of: Sample[], pick: (s: Sample) => number) => median(of.map(pick));
    const checks = [
      { what: 'daemon RSS', pick: (s: Sample) => s.daemon.rssKiB },
      { what: 'daemon fds', pick: (s: Sample) => s.daemon.fds },
      { what: 'agent RSS', pick: (s: Sample) => s.agent.rssKiB },
      { what: 'agent fds', pick: (s: Sample) => s.agent.fds },
    ].map(({ what, pick }) => {
      const c = { what, base: level(base, pick), end: level(end, pick) };
      // Growth is what fails: a level that falls (V8 or malloc giving pages back) leaks nothing.
      return { ...c, ok: c.end <= c.base * (1 + TOLERANCE) };
    });
    const rate = Math.round((run.frames * 1000) / run.ms);
    console.log(`\n${table(samples)}\n`);
    for (const c of checks) console.log(`${c.ok ? 'ok    ' : 'FAILED'} ${c.what}: ${c.base} → ${c.end} (${change(c.end, c.base)}, limit +${TOLERANCE * 100} %)`);
    console.log(`${run.frames.toLocaleString('en-US')} frames in ${(run.ms / 1000).toFixed(0)} s (${rate} frames/s); daemon ${JSON.stringify(run.daemon.stats)}; agent ${JSON.stringify(run.agent.stats)}`);
    console.log(alive ? 'daemon and agents alive, nothing unhandled in their output' : `FAILED: a process died or reported an unhandled error:\n${processes.map((p) => p.text.slice(-2000)).join('\n')}`);
    console.log(served ? 'afterwards a real lease and request are served on both' : 'FAILED: a legitimate link is no longer served');
    const ok = alive && served && checks.every((c) => c.ok);
    const thrown = (what: string, s: TargetStats) =>
      `${what}: ${s.frames.toLocaleString('en-US')} frames on ${s.links.toLocaleString('en-US')} links (${s.preAuth} before the handshake, ${s.streams.toLocaleString('en-US')} with a relay stream live), ${s.errorsSeen.toLocaleString('en-US')} error frames back, ${s.closes.toLocaleString('en-US')} links ended in a close (by code: ${Object.entries(s.closeCodes).map(([code, n]) => `${code}: ${n}`).join(', ')})`;
    writeResults(seed, samples, checks, run.frames, run.ms, rate, ok, [thrown('daemon', run.daemon.stats), thrown('agent', run.agent.stats)]);
    await run.agent.stop();
    return ok ? 0 : 1;
  } finally {
    await world.dispose();
  }
}

function writeResults(seed: number, samples: Sample[], checks: { what: string; base: number; end: number; ok: boolean }[], frames: number, ms: number, rate: number, ok: boolean, thrown: string[]): void {
  const load = os.loadavg()[0]!.toFixed(2);
  const body = [
    `Latest \`npm run soak\`: ${new Date().toISOString()}, FUZZ_SEED=${seed}: ${frames.toLocaleString('en-US')} fuzzed frames in ${(ms / 1000).toFixed(0)} s (${rate} frames/s) at the daemon (as hostile laptops, over its link socket) and at an agent (from a hostile daemon), ${ok ? '**passed**' : '**failed**'}.`,
    `Machine: ${os.cpus().length} cores, Node ${process.version}, 1-min load average ${load} at the end. Samples are taken with every fuzzing link closed and the agent reconnected; both run with MALLOC_MMAP_THRESHOLD_=131072 (see bench/soak.ts: glibc's moving threshold otherwise lets the brk heap drift with no live object behind it). A level is the median of ${LEVEL_OF} samples; the end level may be at most ${TOLERANCE * 100} % above the level from ${BASELINE_AT.toLocaleString('en-US')} frames on.`,
    '',
    ...thrown.map((line) => `- ${line}.`),
    '',
    table(samples),
    '',
    `| check | level after ${BASELINE_AT.toLocaleString('en-US')} frames | level at the end | change | |`,
    '|---|---:|---:|---:|---|',
    ...checks.map((c) => `| ${c.what} | ${c.what.endsWith('RSS') ? mib(c.base) : c.base} | ${c.what.endsWith('RSS') ? mib(c.end) : c.end} | ${change(c.end, c.base)} | ${c.ok ? 'met' : '**missed**'} |`),
  ].join('\n');
  writeSection(SECTION, body);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
