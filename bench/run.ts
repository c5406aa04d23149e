/**
 * `npm run bench`: direct vs Tether's relay vs the Portkey gateway against one mock provider
 * on loopback, interleaved in one run. Prints the table and writes bench/RESULTS.md.
 * Not part of `npm test`: the figures depend on the machine.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/support/tether-process.js';
import { target, type Target } from './http-client.js';
import { capacity, headOfLine, pacedEvents, rssPer100Streams, smallLatency, streamTtfb } from './measure.js';
import { byeTo401, stopTo401 } from './revocation.js';
import { TOKEN_RATIO_TARGET, TOKEN_SECTION_TITLE, tokenProcess } from './token-process.js';
import { startBench, type Bench } from './setup.js';
import { delta, ms, ratio, type Summary } from './stats.js';

const quick = process.argv.includes('--quick');
/** Leaves the bench's own processes' helper threads at the default priority (see startBench). */
const apparatusHelpers = process.argv.includes('--apparatus-default-priority') ? 'default' : 'lowered';
const N = quick ? 300 : 1500;

type Row = [what: string, figure: string, target: string, ok: boolean | undefined];
const rows: Row[] = [];
const notes: string[] = [];
const row = (what: string, figure: string, goal: string, ok?: boolean) => {
  rows.push([what, figure, goal, ok]);
  process.stderr.write(`  ${what}: ${figure}\n`);
};

async function main(): Promise<void> {
  const started = Date.now();
  loadAtStart = os.loadavg()[0]!;
  process.stderr.write('starting mock provider, daemon, agent and Portkey…\n');
  const bench = await startBench({ apparatusHelpers });
  try {
    const path = '/v1/chat/completions';
    const targets: Target[] = [
      target('direct', `${bench.mockUrl}${path}`, { authorization: `Bearer ${bench.key}` }),
      target('pipes', `${bench.pipesUrl}${path}`, { authorization: `Bearer ${bench.key}` }),
      target('relay', `${bench.world.state.proxyUrl}/openai${path}`, { authorization: `Bearer ${bench.leaseToken}` }),
      target('portkey', `${bench.portkeyUrl}${path}`, { authorization: `Bearer ${bench.key}`, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${bench.mockUrl}/v1` }),
    ];
    const [direct, , relay] = targets as [Target, Target, Target, Target];

    process.stderr.write(`small non-streaming requests (${N} per path, interleaved)…\n`);
    const small = await smallLatency(targets, N);
    for (const t of targets) row(`small request, ${t.name}`, `p50 ${ms(small[t.name].p50)}, p99 ${ms(small[t.name].p99)}`, '');
    const addRelay = { p50: small.relay.p50 - small.direct.p50, p99: small.relay.p99 - small.direct.p99 };
    const addPortkey = { p50: small.portkey.p50 - small.direct.p50, p99: small.portkey.p99 - small.direct.p99 };
    row('added latency, relay', `p50 ${delta(addRelay.p50)}, p99 ${delta(addRelay.p99)}`, '≤ 1.0 ms p50, ≤ 2.5 ms p99', addRelay.p50 <= 1 && addRelay.p99 <= 2.5);
    row('added latency, Portkey', `p50 ${delta(addPortkey.p50)}, p99 ${delta(addPortkey.p99)}`, '');
    row('added latency, two bare hops (the floor)', floorFigure(small), '');
    row('relay added beyond the floor', beyondFloor(small), '');
    row('relay vs Portkey added latency', `p50 ${ratio(addRelay.p50, addPortkey.p50)}, p99 ${ratio(addRelay.p99, addPortkey.p99)}`, 'relay below Portkey', addRelay.p50 < addPortkey.p50 && addRelay.p99 < addPortkey.p99);

    process.stderr.write('streaming: time to first byte…\n');
    const ttfb = await streamTtfb(targets, quick ? 200 : 1500, quick ? 50 : 200);
    const addTtfb = ttfb.relay.p99 - ttfb.direct.p99;
    row('stream TTFB added, relay', `p50 ${delta(ttfb.relay.p50 - ttfb.direct.p50)}, p99 ${delta(addTtfb)}`, '≤ 1 ms p99', addTtfb <= 1);
    row('stream TTFB added, Portkey', `p50 ${delta(ttfb.portkey.p50 - ttfb.direct.p50)}, p99 ${delta(ttfb.portkey.p99 - ttfb.direct.p99)}`, '');
    row('stream TTFB added, two bare hops (the floor)', floorFigure(ttfb), '');
    row('stream TTFB, relay added beyond the floor', beyondFloor(ttfb), '');

    const count = quick ? 200 : 1000;
    const rounds = quick ? 1 : 2;
    process.stderr.write(`streaming: 3 streams per path × ${count} events at 70/s, one path at a time, ${rounds} rounds…\n`);
    const events = await pacedEvents(targets, 3, count, 70, rounds);
    const addEvent = events.relay.p99 - events.direct.p99;
    row('per-event delay added, relay', `p50 ${delta(events.relay.p50 - events.direct.p50, 3)}, p99 ${delta(addEvent, 3)} (${events.relay.events} events)`, '≤ 1 ms p99', addEvent <= 1);
    row('per-event delay added, Portkey', `p50 ${delta(events.portkey.p50 - events.direct.p50, 3)}, p99 ${delta(events.portkey.p99 - events.direct.p99, 3)}`, '');
    row('per-event delay added, two bare hops (the floor)', floorFigure(events, 3), '');
    row('per-event delay, relay added beyond the floor', beyondFloor(events, 3), '');
    row('reads per event at the client, relay', `${events.relay.readsPerEvent.toFixed(2)} (direct ${events.direct.readsPerEvent.toFixed(2)})`, '≥ 1.0: no coalescing', events.relay.readsPerEvent >= 0.99);

    process.stderr.write('capacity through one link (closed loop, rising concurrency)…\n');
    const seconds = quick ? 1 : 2;
    const capRelay = await capacity(relay, 10, seconds);
    const capDirect = await capacity(direct, 10, seconds);
    notes.push(`capacity steps, relay: ${capRelay.steps.join('; ')}`, `capacity steps, direct: ${capDirect.steps.join('; ')}`);
    row('capacity at p99 < 10 ms, relay', `${capRelay.rps.toFixed(0)} req/s (c=${capRelay.concurrency}, p99 ${ms(capRelay.p99)})`, '≥ 2,000 req/s', capRelay.rps >= 2000);
    row('capacity at p99 < 10 ms, direct', `${capDirect.rps.toFixed(0)} req/s (c=${capDirect.concurrency})`, '');

    const pids = [bench.world.daemon.pid, bench.world.agent!.pid];
    const rss = await rssPer100Streams(relay, pids);
    row('RSS per 100 concurrent streams (daemon + agent)', `${rss.during - rss.before < 0 ? '−' : '+'}${Math.abs(rss.during - rss.before).toFixed(1)} MiB (${rss.before.toFixed(0)} → ${rss.during.toFixed(0)} MiB)`, '≤ 40 MB', rss.during - rss.before <= 40);

    process.stderr.write('head-of-line: one client stalled on a 50 MB stream…\n');
    const hol = await headOfLine(relay, quick ? 300 : 1000);
    const holAdd = hol.stalled.p99 - hol.baseline.p99;
    row('head-of-line, others\' p99 rise', `${delta(holAdd)} (${ms(hol.baseline.p99)} → ${ms(hol.stalled.p99)})`, '≤ 2 ms', holAdd <= 2);

    process.stderr.write('revocation latency…\n');
    const bye = await byeTo401(bench.world, quick ? 4 : 12);
    row('revocation, bye → 401', `p50 ${ms(bye.p50)}, p99 ${ms(bye.p99)} (n=${bye.n})`, '≤ 50 ms p99', bye.p99 <= 50);
    const stop = await stopTo401(bench.world, quick ? 1 : 3);
    row('revocation, SIGSTOP → 401 (heartbeat 1 s)', `p50 ${ms(stop.p50, 0)}, max ${ms(stop.p99, 0)} (n=${stop.n})`, '≤ 3.5 s', stop.p99 <= 3500);

    process.stderr.write('tether token as a whole process…\n');
    const tok = await tokenProcess(bench.world, quick ? 5 : 15);
    const [token] = tok.token as [Summary];
    row('`tether token` (auto-approve) vs `node -e 0`', `p50 ${ms(token.p50, 1)} vs ${ms(tok.node.p50, 1)}: ${ratio(token.p50, tok.node.p50)}`, `≤ ${TOKEN_RATIO_TARGET}×`, token.p50 <= TOKEN_RATIO_TARGET * tok.node.p50);

    for (const t of targets) t.agent.destroy();
  } finally {
    await bench.close();
  }
  const table = render(((Date.now() - started) / 1000).toFixed(0), bench.apparatusHelpers);
  process.stdout.write(table);
  if (!quick) writeFileSync(join(ROOT, 'bench/RESULTS.md'), table + tokenSection());
}

let loadAtStart = 0;

/** bench/token-process.ts's own section of RESULTS.md (`npm run bench:token`), kept across runs. */
function tokenSection(): string {
  const old = existsSync(join(ROOT, 'bench/RESULTS.md')) ? readFileSync(join(ROOT, 'bench/RESULTS.md'), 'utf8') : '';
  const start = old.indexOf(TOKEN_SECTION_TITLE);
  return start >= 0 ? '\n' + old.slice(start) : '';
}

type Figures = Record<Target['name'], { p50: number; p99: number }>;
/** What the bare hops add over direct: the machine's own cost of two more processes in the path. */
const floorFigure = (f: Figures, digits = 2) => `p50 ${delta(f.pipes.p50 - f.direct.p50, digits)}, p99 ${delta(f.pipes.p99 - f.direct.p99, digits)}`;
/** What the relay adds over the bare hops: the part its own work is responsible for. */
const beyondFloor = (f: Figures, digits = 2) => `p50 ${delta(f.relay.p50 - f.pipes.p50, digits)}, p99 ${delta(f.relay.p99 - f.pipes.p99, digits)}`;

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}; 1-min load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0]!.toFixed(2)} at the end (other work on the machine shows up in every p99)`;
}

function render(seconds: string, apparatus: Bench['apparatusHelpers']): string {
  const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? 'met' : '**missed**');
  const lines = [
    '# Relay benchmark results',
    '',
    `Latest \`npm run bench\`${quick ? ' --quick' : ''}: ${new Date().toISOString()}, ${seconds} s.`,
    `Machine: ${machine()}.`,
    'Loopback only; one mock provider process; the relay path is proxy → link (Unix socket) → agent → mock;',
    'the floor is two bare processes of the same shape (TCP → Unix socket → TCP) that only copy bytes (bench/pipe-hop.mjs);',
    'Portkey (`@portkey-ai/gateway`, `--headless`, `x-portkey-custom-host`) is the peer one-hop gateway. Paths take turns in a seeded random order; for per-event delay each path runs alone, in two rounds (the second reversed).',
    `The daemon and the agent run their helper threads (V8's GC and JIT, libuv's pool) at nice 19 (remote/helper-threads.ts); ${
      apparatus ? `the bench put its own processes' (load generator, mock, Portkey, bare hops: ${apparatus.threads} threads) at ${apparatus.how}, so no path is measured against the apparatus's GC and JIT (\`--apparatus-default-priority\` leaves them alone).` : "the bench's own processes (load generator, mock, Portkey, bare hops) kept theirs at the default priority (`--apparatus-default-priority`)."
    }`,
    '',
    '| measure | figure | target | |',
    '|---|---|---|---|',
    ...rows.map(([what, figure, goal, ok]) => `| ${what} | ${figure} | ${goal} | ${mark(ok)} |`),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
