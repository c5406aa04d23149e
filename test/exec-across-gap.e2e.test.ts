// A `tether exec` child's key is a handle, not a lease: it outlives the laptop's link (fails
// fast while the laptop is away), is re-bound through the laptop's policy when it is back,
// and dies with the exec. (The same over SSH with a silent network cut: network-loss.e2e.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecChild } from './support/exec-child.js';
import { ROOT, waitFor } from './support/tether-process.js';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { refusalOf } from './support/refusal.js';

const PROBE = join(ROOT, 'test/clients/exec-probe.mjs');
let world: World | undefined;
let child: ExecChild | undefined;

afterEach(async () => {
  child?.process.kill('SIGKILL');
  child = undefined;
  await retire(world);
  world = undefined;
});

describe('tether exec across a laptop gap', () => {
  it('away: 503 at once; back: the owner policy decides (deny, then allow); exit: no lease left', async () => {
    world = await World.start({ approve: 'allow' });
    child = new ExecChild(world.serverHome, ['--provider', 'openai'], PROBE);
    expect(await child.ask()).toMatchObject({ status: 200 });

    await world.agent!.stop();
    const away = await child.ask();
    expect(away).toMatchObject({ status: 503 });
    expect(away.message).toMatch(/laptop away/);
    expect((await world.daemonStatus())?.leases).toEqual([]);

    // Back, but the owner now denies: the same key is refused, and no lease is made.
    await world.startAgent(['--approve', 'deny']);
    const denied = await child.ask();
    expect(denied).toMatchObject({ status: 403 });
    expect(denied.message).toMatch(/denied/);
    expect((await world.daemonStatus())?.leases).toEqual([]);

    await world.agent!.stop();
    await world.startAgent(['--approve', 'allow']);
    expect(await child.ask()).toMatchObject({ status: 200 });
    expect(world.mock.requests).toHaveLength(2);
    expect((await world.daemonStatus())?.leases).toHaveLength(1);

    expect(await child.end()).toBe(0);
    expect((await world.daemonStatus())?.leases).toEqual([]);
  });

  it('a revoked lease is re-asked on next use; an exec killed outright leaves a key that cannot re-bind', async () => {
    const w = (world = await World.start({ approve: 'allow' }));
    child = new ExecChild(w.serverHome, ['--provider', 'openai'], PROBE);
    expect(await child.ask()).toMatchObject({ status: 200 });
    expect((await w.laptop(['revoke'])).code).toBe(0);
    await waitFor(async () => ((await w.daemonStatus())?.leases.length === 0 ? true : undefined), 'lease revoked');
    expect(await child.ask()).toMatchObject({ status: 200 });
    expect((await w.daemonStatus())?.leases).toHaveLength(1);

    // SIGKILL: the exec never releases. Take its child's key (same uid may read /proc) and kill both.
    const execPid = child.process.pid!;
    const probePid = Number(readFileSync(`/proc/${execPid}/task/${execPid}/children`, 'utf8').trim().split(' ')[0]);
    const key = readFileSync(`/proc/${probePid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('OPENAI_API_KEY='))!.slice('OPENAI_API_KEY='.length);
    w.tokens.add(key);
    expect((await w.proxy('/openai/v1/chat/completions', key)).status).toBe(200);
    child.process.kill('SIGKILL');
    process.kill(probePid, 'SIGKILL');
    await waitFor(() => (existsSync(`/proc/${execPid}`) ? undefined : true), 'exec gone');

    // Link up, lease live: the key works as the lease would until the laptop leaves…
    await w.agent!.stop();
    await w.startAgent();
    // …and after that it is never re-bound: the exec that owned it is gone.
    const refused = await refusalOf(await w.proxy('/openai/v1/chat/completions', key));
    expect(refused.status).toBe(401);
    expect(refused.code).toBe('exec-ended');
    expect((await w.daemonStatus())?.leases).toEqual([]);
    expect(w.mock.requests).toHaveLength(3);
  });
});
