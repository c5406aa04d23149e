// Every way a lease dies, each ending with the old token refused at the proxy.
import { afterEach, describe, expect, it } from 'vitest';
import { retire } from './support/retire.js';
import { World } from './support/world.js';

let world: World | undefined;

afterEach(async () => {
  await retire(world);
  world = undefined;
});

async function leasedWorld(): Promise<{ world: World; token: string }> {
  const w = await World.start({ approve: 'allow', heartbeatMs: 1000 });
  const r = await w.token('openai');
  expect(r.code, r.stderr).toBe(0);
  const token = r.stdout.trim();
  expect((await w.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
  return { world: w, token };
}

/** Milliseconds from now until the proxy refuses `token`, polling every few ms. */
async function msUntilRefused(w: World, token: string, limitMs: number): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  for (;;) {
    const res = await w.proxy('/openai/v1/chat/completions', token);
    if (res.status === 401) return { ms: performance.now() - started, body: await res.text() };
    await res.arrayBuffer();
    if (performance.now() - started > limitMs) throw new Error(`lease still accepted after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('revocation', () => {
  it('agent bye (SIGTERM) revokes at once', async () => {
    ({ world } = await leasedWorld());
    const token = [...world.tokens][0]!;
    const started = performance.now();
    world.agent!.child.kill('SIGTERM');
    const { ms, body } = await msUntilRefused(world, token, 2000);
    console.log(`bye → 401 in ${ms.toFixed(1)} ms (${(performance.now() - started).toFixed(1)} ms since the signal)`);
    expect(ms).toBeLessThanOrEqual(250);
    expect(body).toMatch(/laptop disconnected/);
  });

  it.each(['SIGKILL', 'SIGSTOP'] as const)('agent %s: the dead-man timer revokes within 3.5 s', async (signal) => {
    ({ world } = await leasedWorld());
    const token = [...world.tokens][0]!;
    world.agent!.child.kill(signal);
    const { ms, body } = await msUntilRefused(world, token, 6000);
    console.log(`${signal} → 401 in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThanOrEqual(3500);
    expect(body).toMatch(/laptop disconnected/);
    if (signal === 'SIGSTOP') world.agent!.child.kill('SIGCONT');
  });

  it('a daemon restart leaves no lease alive', async () => {
    ({ world } = await leasedWorld());
    const token = [...world.tokens][0]!;
    await world.daemon.stop();
    await world.startDaemon();
    const res = await world.proxy('/openai/v1/chat/completions', token);
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/unknown lease/);
    expect(world.mock.requests).toHaveLength(1);
  });

  it('`tether revoke` on the laptop revokes every lease', async () => {
    ({ world } = await leasedWorld());
    const token = [...world.tokens][0]!;
    const r = await world.laptop(['revoke']);
    expect(r.code, r.stderr).toBe(0);
    const { body } = await msUntilRefused(world, token, 2000);
    expect(body).toMatch(/revoked/);
    // The link itself stays up: a new lease works.
    const again = await world.token('openai');
    expect(again.code).toBe(0);
    expect((await world.proxy('/openai/v1/chat/completions', again.stdout.trim())).status).toBe(200);
  });
});
