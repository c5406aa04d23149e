// 1,000 connections of each kind that never authenticate, on each of the daemon's listeners (the
// laptop link socket, the loopback proxy and control API, the `--listen` TLS port), against the
// real daemon: every one closed by 6 s, the daemon's fds back to their level, and a tool served
// through the laptop all along. bench/soak.ts runs the same floods and prints the latencies.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdCount, fdsBackTo, flood, type FloodKind, type FloodTarget } from './support/flood.js';
import { World } from './support/world.js';
import { freePort } from './support/ports.js';

const COUNT = 1000;
const CLOSED_BY_MS = 6000;
let world: World;
let token: string;
let tlsPort: number;


beforeAll(async () => {
  tlsPort = await freePort();
  world = await World.start({ daemonArgs: ['--listen', `127.0.0.1:${tlsPort}`], approve: 'allow' });
  await world.waitForLaptops(1);
  const t = await world.token('openai');
  expect(t.code, t.stderr).toBe(0);
  token = t.stdout.trim();
}, 60_000);

afterAll(async () => {
  await world?.dispose();
});

/** A tool's requests through the lease, one after another, until `stop`: every answer and how long it took. */
function toolTraffic(): { stop: () => Promise<{ statuses: number[]; ms: number[] }> } {
  const statuses: number[] = [];
  const ms: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await world.proxy('/openai/v1/chat/completions', token).catch(() => undefined);
      await res?.text();
      statuses.push(res?.status ?? 0);
      ms.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { statuses, ms };
    },
  };
}

describe('floods of connections that never authenticate', () => {
  it(`closes ${COUNT} of each kind on every listener by ${CLOSED_BY_MS / 1000} s, gives the fds back, and serves the tool meanwhile`, async () => {
    const pid = world.daemon.pid;
    const level = fdCount(pid);
    const listeners: [string, FloodTarget, FloodKind[]][] = [
      ['link socket', { unix: world.state.socket }, ['silent', 'half-upgrade', 'slow-headers', 'slow-body']],
      ['proxy port', { tcp: Number(new URL(world.state.proxyUrl).port) }, ['silent', 'half-upgrade', 'slow-headers', 'slow-body']],
      ['TLS port', { tls: tlsPort }, ['tls-never-started', 'silent', 'half-upgrade', 'slow-headers', 'slow-body']],
    ];
    const tool = toolTraffic();
    // The listeners in parallel (each has its own budget), the kinds one after another (each flood
    // alone fills most of one); each listener's floods start 1.8 s after the previous listener's,
    // so that no two listeners' 1,000 deadlines fall due in the same instant.
    const results = await Promise.all(
      listeners.map(async ([name, target, kinds], i) => {
        await new Promise((r) => setTimeout(r, i * 1800));
        const out = [];
        for (const kind of kinds) out.push({ name, ...(await flood(target, kind, COUNT, CLOSED_BY_MS + 2000)) });
        return out;
      }),
    );
    const { statuses, ms } = await tool.stop();
    console.log(results.flat().map((r) => `${r.name} ${r.kind}: ${r.closed}/${r.opened} closed, slowest ${r.slowestCloseMs} ms`).join("\n"));
    for (const r of results.flat()) {
      expect(r.closed, `${r.name} ${r.kind}`).toBe(COUNT);
      expect(r.slowestCloseMs, `${r.name} ${r.kind}`).toBeLessThanOrEqual(CLOSED_BY_MS);
    }
    expect(await fdsBackTo(pid, level, 8)).toBeLessThanOrEqual(level + 8);
    // The laptop's link is authenticated: untouched. Its tool was answered every time, by the provider.
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.every((s) => s === 200), statuses.join(',')).toBe(true);
    expect((await world.daemonStatus())?.laptops).toHaveLength(1);
    const sorted = [...ms].sort((a, b) => a - b);
    console.log(`tool during the floods: ${ms.length} requests, p50 ${sorted[sorted.length >> 1]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`);
    // The reason is in the daemon's log, rate limited: a few lines, not one per connection.
    const log = readFileSync(world.daemon.logFile, 'utf8');
    expect(log).toMatch(/did not authenticate within 5000 ms/);
    expect(log.split('\n').filter((l) => /unauthenticated|did not authenticate/.test(l)).length).toBeLessThan(60);
    expect(world.leaks()).toEqual([]);
  }, 90_000);
});
