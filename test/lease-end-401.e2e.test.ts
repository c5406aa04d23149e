// However a lease ends, tools are told 401 with why (SDKs refresh a key on 401 and retry a 5xx),
// from the first request after the event, and no request under load ever sees a 5xx.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { retire } from './support/retire.js';
import { World, type WorldOptions } from './support/world.js';

let world: World | undefined;

afterEach(async () => {
  await retire(world);
  world = undefined;
});

const PATH = '/openai/v1/chat/completions';

interface Answer {
  status: number;
  sentAt: number;
  answeredAt: number;
}

/** Requests on a few connections at once until stopped; every status seen, fetch failures as 0. */
function load(w: World, token: string): { statuses: number[]; answers: Answer[]; stop: () => Promise<void> } {
  const statuses: number[] = [];
  const answers: Answer[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const sentAt = performance.now();
      try {
        const res = await w.proxy(PATH, token);
        await res.arrayBuffer();
        statuses.push(res.status);
        answers.push({ status: res.status, sentAt, answeredAt: performance.now() });
      } catch {
        statuses.push(0); // the daemon itself was down (a restart)
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    statuses,
    answers,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function leased(options: WorldOptions = {}): Promise<{ w: World; token: string }> {
  const w = await World.start({ approve: 'allow', heartbeatMs: 1000, ...options });
  const r = await w.token('openai');
  expect(r.code, r.stderr).toBe(0);
  return { w, token: r.stdout.trim() };
}

async function firstAfter(w: World, token: string): Promise<{ status: number; message: string }> {
  const res = await w.proxy(PATH, token);
  const body = (await res.json()) as { error?: { message?: string } };
  return { status: res.status, message: body.error?.message ?? '' };
}

const ENDINGS: [string, RegExp, (w: World) => Promise<void>][] = [
  ['tether revoke', /revoked/, async (w) => expect((await w.laptop(['revoke'])).code).toBe(0)],
  ['bye (agent SIGTERM)', /laptop disconnected/, async (w) => void (await w.agent!.stop('SIGTERM'))],
  [
    'agent SIGKILL',
    /laptop disconnected/,
    async (w) => {
      const exited = once(w.agent!.child, 'exit');
      w.agent!.child.kill('SIGKILL');
      await exited;
    },
  ],
  [
    'daemon restart',
    /unknown lease token/,
    async (w) => {
      await w.daemon.stop();
      await w.startDaemon();
    },
  ],
];

describe('a lease that ended is a 401, never a 5xx', () => {
  it.each(ENDINGS)('%s, under load', async (_how, why, end) => {
    const { w, token } = await leased();
    world = w;
    const traffic = load(w, token);
    await new Promise((r) => setTimeout(r, 300));
    await end(w);
    const first = await firstAfter(w, token);
    await new Promise((r) => setTimeout(r, 200));
    await traffic.stop();
    expect(first.status, first.message).toBe(401);
    expect(first.message).toMatch(why);
    expect(traffic.statuses.filter((s) => s >= 500)).toEqual([]);
    expect(traffic.statuses).toContain(200);
  });

  it('TTL: a once lease expires into 401s, on whichever side its clock ran out first', async () => {
    const { w, token } = await leased({ approve: 'allow-once', agentArgs: ['--lease-ttl', '1s'] });
    world = w;
    const traffic = load(w, token);
    await new Promise((r) => setTimeout(r, 1600));
    const first = await firstAfter(w, token);
    await traffic.stop();
    expect(first.status, first.message).toBe(401);
    expect(first.message).toMatch(/expired/);
    expect(traffic.statuses.filter((s) => s >= 500)).toEqual([]);
    expect(traffic.statuses).toContain(200);
    // Once the first 401 came, no request sent after it is answered anything else (one sent
    // before it may still finish with 200: it was inside the lease's life when it arrived).
    const first401 = Math.min(...traffic.answers.filter((a) => a.status === 401).map((a) => a.answeredAt));
    expect(traffic.answers.filter((a) => a.sentAt > first401 && a.status !== 401)).toEqual([]);
  });
});
