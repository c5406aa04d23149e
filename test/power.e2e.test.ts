// Sleep and lock: the tray's power handler (and the headless agent's logind listener) revoke
// every lease against a real daemon before the handler's promise settles; wake reconnects
// with fresh links and never brings an old lease back.
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../agent/agent.js';
import { ApprovalPolicy } from '../agent/approvals.js';
import { SleepGuard } from '../agent/power/sleep-guard.js';
import { openStore } from '../agent/vault/index.js';
import { ExitCode } from '../remote/cli/exit-codes.js';
import { World } from './support/world.js';

let world: World | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.close();
  agent = undefined;
  if (!world) return;
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
  world = undefined;
});

/** The agent library in this process, as the tray hosts it, paired with the world's daemon. */
async function inProcessAgent(w: World): Promise<{ agent: Agent; server: string }> {
  const env = { ...process.env, TETHER_VAULT_PASSPHRASE: w.passphrase };
  const a = createAgent({
    home: w.laptopHome,
    policy: ApprovalPolicy.parse('allow'),
    approvalTimeoutMs: 5000,
    leaseTtlMs: 600_000,
    openStore: (kind) => openStore(kind, { home: w.laptopHome, env }),
    identityStore: 'file',
  });
  const server = `unix:${w.state.socket}`;
  await a.connect(server, { pairCode: await w.pairCode() });
  await w.waitForLaptops(1);
  return { agent: a, server };
}

async function leaseWorks(w: World): Promise<string> {
  const r = await w.token('openai');
  expect(r.code, r.stderr).toBe(ExitCode.ok);
  const token = r.stdout.trim();
  expect((await w.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
  return token;
}

describe('power events and the sleep guard', () => {
  it('suspend revokes every lease on the daemon before the handler settles; resume reconnects without old leases', async () => {
    world = await World.start({ approve: 'allow', noAgent: true });
    const started = await inProcessAgent(world);
    agent = started.agent;
    const token = await leaseWorks(world);
    const guard = new SleepGuard(agent);
    const slept: unknown[] = [];
    guard.on('slept', (e) => slept.push(e));

    await guard.handle('suspend');
    // No waiting: by the time the handler's promise settled, the daemon had dropped the lease.
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    expect(agent.readyServers()).toEqual([]);
    expect(slept).toEqual([{ trigger: 'suspend', servers: [started.server], leases: 1 }]);

    expect(await guard.handle('resume')).toEqual([started.server]);
    await world.waitForLaptops(1);
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    await leaseWorks(world);
  });

  it('lock revokes too; with reconnect-on-wake off, unlock leaves the servers disconnected', async () => {
    world = await World.start({ approve: 'allow', noAgent: true });
    agent = (await inProcessAgent(world)).agent;
    const token = await leaseWorks(world);
    const guard = new SleepGuard(agent, () => false);
    await guard.handle('lock');
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    expect(await guard.handle('unlock')).toEqual([]);
    expect(agent.readyServers()).toEqual([]);
    const status = await world.daemonStatus();
    expect(status?.laptops).toEqual([]);
    expect((await world.token('openai')).code).toBe(ExitCode.noLaptop);
  });
});
