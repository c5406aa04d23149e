// Several laptops on one daemon (a shared server account): requests route by `--as NAME` /
// `TETHER_AS`, or to the only one connected; with several and none named the command fails
// naming them; one laptop leaving ends only its own leases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from './support/tether-process.js';
import { World, type OtherLaptop } from './support/world.js';
import { refusalOf } from './support/refusal.js';

let world: World;
let beta: OtherLaptop;

const SDK_CLIENT = join(ROOT, 'test/clients/sdk-client.mjs');

beforeAll(async () => {
  world = await World.start({ approve: 'allow', agentArgs: ['--name', 'alpha'] });
  beta = await world.addLaptop('beta');
});

afterAll(async () => {
  if (!world) return;
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

/** The key header the mock provider received last. */
function lastKey(requests: { headers: Record<string, unknown> }[]): unknown {
  return requests.at(-1)?.headers.authorization;
}

describe('two laptops on one daemon', () => {
  it('none named: every lease command fails with exit 1, naming both laptops', async () => {
    const status = await world.daemonStatus();
    expect(status?.laptops.map((l) => l.name).sort()).toEqual(['alpha', 'beta']);
    for (const args of [['token', 'openai'], ['env'], ['exec', '--', 'true']]) {
      const r = await world.server(args, { TETHER_AS: undefined });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/several laptops/);
      expect(r.stderr).toMatch(/alpha/);
      expect(r.stderr).toMatch(/beta/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const unknown = await world.server(['token', 'openai', '--as', 'gamma']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no laptop named "gamma".*alpha.*beta/);
    expect(world.mock.requests).toHaveLength(0);
    expect(beta.mock.requests).toHaveLength(0);
  });

  it('--as and TETHER_AS route to the named laptop: its provider sees its key', async () => {
    const viaFlag = await world.server(['token', 'openai', '--as', 'alpha']);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    const alphaToken = viaFlag.stdout.trim();
    world.tokens.add(alphaToken);
    const viaEnv = await world.token('openai', { TETHER_AS: 'beta' });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const betaToken = viaEnv.stdout.trim();
    expect(betaToken).not.toBe(alphaToken);

    expect((await world.proxy('/openai/v1/chat/completions', alphaToken)).status).toBe(200);
    expect(lastKey(world.mock.requests)).toBe(`Bearer ${world.keys.openai}`);
    expect((await world.proxy('/openai/v1/chat/completions', betaToken)).status).toBe(200);
    expect(lastKey(beta.mock.requests)).toBe(`Bearer ${beta.key}`);
    expect(world.mock.requests).toHaveLength(1);
    expect(beta.mock.requests).toHaveLength(1);

    // `--as` wins over TETHER_AS; the official SDK under `tether exec` reaches the named laptop.
    const exec = await world.server(['exec', '--as', 'beta', '--', process.execPath, SDK_CLIENT, 'openai', 'plain'], { TETHER_AS: 'alpha' });
    expect(exec.code, exec.stderr).toBe(0);
    expect(beta.mock.requests).toHaveLength(2);
    expect(lastKey(beta.mock.requests)).toBe(`Bearer ${beta.key}`);
    expect(world.mock.requests).toHaveLength(1);

    const status = await world.daemonStatus();
    // The exec's lease was released when its child exited; the two `token` leases live on.
    expect(status?.leases.map((l) => l.laptop).sort()).toEqual(['alpha', 'beta']);
  });

  it("one laptop's disconnect ends only its own leases; the other is then the only one", async () => {
    const alpha = await world.server(['token', 'openai', '--as', 'alpha']);
    const betaLease = await world.server(['token', 'openai', '--as', 'beta']);
    const alphaToken = alpha.stdout.trim();
    const betaToken = betaLease.stdout.trim();
    world.tokens.add(alphaToken);
    world.tokens.add(betaToken);

    await beta.agent!.stop('SIGKILL');
    await world.waitForLaptops(1);
    const refused = await refusalOf(await world.proxy('/openai/v1/chat/completions', betaToken));
    expect(refused.status).toBe(401);
    expect(refused.code).toBe('lease-ended');
    expect(refused.message).toMatch(/laptop disconnected/); // why it ended
    expect((await world.proxy('/openai/v1/chat/completions', alphaToken)).status).toBe(200);
    const status = await world.daemonStatus();
    expect(new Set(status?.leases.map((l) => l.laptop))).toEqual(new Set(['alpha']));

    // With one laptop left, no name is needed; a name of a laptop that left is refused.
    const only = await world.token('openai', { TETHER_AS: undefined });
    expect(only.code, only.stderr).toBe(0);
    expect((await world.proxy('/openai/v1/chat/completions', only.stdout.trim())).status).toBe(200);
    expect(lastKey(world.mock.requests)).toBe(`Bearer ${world.keys.openai}`);
    const gone = await world.server(['token', 'openai', '--as', 'beta']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no laptop named "beta"/);
  });

  it('two laptops under one name: --as that name is refused, never guessed', async () => {
    await world.addLaptop('alpha');
    const r = await world.server(['token', 'openai', '--as', 'alpha']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/several laptops are named "alpha" \(SHA256:\S+, SHA256:\S+\)/);
    expect(r.stdout).toBe('');
  });
});
