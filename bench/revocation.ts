import { once } from 'node:events';
import type { World } from '../test/support/world.js';
import { chatBody, send, target } from './http-client.js';
import { summarize, type Summary } from './stats.js';

/** A fresh lease on the current link. */
async function lease(world: World): Promise<string> {
  const r = await world.token('openai');
  if (r.code !== 0) throw new Error(`tether token failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Requests with `token`, back to back, until the proxy says 401; ms from `t0`. */
async function untilRefused(world: World, token: string, t0: number, limitMs: number): Promise<number> {
  const t = target('relay', `${world.state.proxyUrl}/openai/v1/chat/completions`, { authorization: `Bearer ${token}` });
  const body = chatBody('mock-1');
  try {
    while (performance.now() - t0 < limitMs) {
      const r = await send(t, body).catch(() => ({ status: 0 }));
      if (r.status === 401) return performance.now() - t0;
    }
    return NaN;
  } finally {
    t.agent.destroy();
  }
}

/** The agent leaves cleanly (SIGTERM → `bye`): time until its lease is refused. */
export async function byeTo401(world: World, samples: number): Promise<Summary> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await world.startAgent();
    const token = await lease(world);
    const t0 = performance.now();
    world.agent!.child.kill('SIGTERM');
    out.push(await untilRefused(world, token, t0, 5000));
    await once(world.agent!.child, 'exit');
  }
  await world.startAgent();
  return summarize(out);
}

/** The agent freezes (SIGSTOP: a laptop that drops off the network): time until the dead-man timer refuses its lease. */
export async function stopTo401(world: World, samples: number): Promise<Summary> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const token = await lease(world);
    const agent = world.agent!.child;
    const t0 = performance.now();
    agent.kill('SIGSTOP');
    out.push(await untilRefused(world, token, t0, 10_000));
    agent.kill('SIGKILL');
    agent.kill('SIGCONT');
    await once(agent, 'exit');
    await world.startAgent();
  }
  return summarize(out);
}
