/**
 * The flood part of `npm run soak`: test/flood.e2e.test.ts's floods (1,000 connections of each
 * kind that never authenticate, on the link socket, the proxy port and the TLS port), one
 * listener at a time, with a tool's requests timed before and during them: how long the floods
 * are held, whether the fds come back, and what a legitimate tool's latency does meanwhile.
 */
import { fdCount, fdsBackTo, flood, type FloodKind, type FloodTarget } from '../test/support/flood.js';
import { World } from '../test/support/world.js';
import { freePort } from '../test/support/ports.js';
import { startMockProcess, stop } from './setup.js';
import { percentile } from './stats.js';

const COUNT = 1000;
const CLOSED_BY_MS = 6000;


/** One small request through the lease, timed. */
async function toolRequest(world: World, token: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const res = await world.proxy('/openai/v1/chat/completions', token).catch(() => undefined);
  await res?.text();
  return { status: res?.status ?? 0, ms: performance.now() - t0 };
}

async function toolWhile<T>(world: World, token: string, work: Promise<T>): Promise<{ result: T; samples: { status: number; ms: number }[] }> {
  const samples: { status: number; ms: number }[] = [];
  let done = false;
  const loop = (async () => {
    while (!done) {
      samples.push(await toolRequest(world, token));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await work;
  done = true;
  await loop;
  return { result, samples };
}

export async function floodSoak(log: (line: string) => void): Promise<{ rows: [string, string, string, boolean][]; ok: boolean }> {
  const mock = await startMockProcess();
  const tlsPort = await freePort();
  const world = await World.start({ provider: { url: mock.url, keys: mock.keys }, approve: 'allow', daemonArgs: ['--listen', `127.0.0.1:${tlsPort}`] });
  const rows: [string, string, string, boolean][] = [];
  try {
    await world.waitForLaptops(1);
    const token = (await world.token('openai')).stdout.trim();
    const idle: number[] = [];
    for (let i = 0; i < 100; i += 1) idle.push((await toolRequest(world, token)).ms);
    const pid = world.daemon.pid;
    const level = fdCount(pid);
    const listeners: [string, FloodTarget, FloodKind[]][] = [
      ['link socket', { unix: world.state.socket }, ['silent', 'half-upgrade', 'slow-headers', 'slow-body']],
      ['proxy port', { tcp: Number(new URL(world.state.proxyUrl).port) }, ['silent', 'half-upgrade', 'slow-headers', 'slow-body']],
      ['TLS port', { tls: tlsPort }, ['tls-never-started', 'silent', 'half-upgrade', 'slow-headers', 'slow-body']],
    ];
    const during: number[] = [];
    let failed = 0;
    for (const [name, target, kinds] of listeners) {
      for (const kind of kinds) {
        log(`flood: ${COUNT} × ${kind} on the ${name}…`);
        const { result, samples } = await toolWhile(world, token, flood(target, kind, COUNT, CLOSED_BY_MS + 2000));
        during.push(...samples.map((s) => s.ms));
        failed += samples.filter((s) => s.status !== 200).length;
        const ok = result.closed === COUNT && result.slowestCloseMs <= CLOSED_BY_MS;
        rows.push([`${name}, ${COUNT} × ${kind}`, `${result.closed} closed, the last after ${result.slowestCloseMs} ms`, `all by ${CLOSED_BY_MS} ms`, ok]);
      }
    }
    const fds = await fdsBackTo(pid, level, 8);
    rows.push(["daemon's fds after the floods", `${level} → ${fds}`, `back to ${level} (+8)`, fds <= level + 8]);
    const p = (xs: number[], q: number) => percentile(xs, q).toFixed(1);
    rows.push(['tool requests during the floods', `${during.length}, ${failed} not 200; p50 ${p(during, 50)} ms, p99 ${p(during, 99)} ms (idle: p50 ${p(idle, 50)} ms, p99 ${p(idle, 99)} ms)`, 'all 200', failed === 0]);
    return { rows, ok: rows.every((r) => r[3]) };
  } finally {
    await world.dispose();
    await stop(mock.child);
  }
}
