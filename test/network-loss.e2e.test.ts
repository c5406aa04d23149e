// Silent network loss on an SSH link: a relay in front of sshd stops every byte without
// closing anything. Leases must die within 3.5 s; the agent retries with backoff (shown in
// `tether status`) and the link is back within 1 s of the network returning. A tool started
// with `tether exec` keeps running across the gap: its requests fail fast ("laptop away")
// while the laptop is gone and work again, same process, once it is back.
import { join } from 'node:path';
import { ExecChild } from './support/exec-child.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetSwitch } from './support/net-switch.js';
import { sshdAvailable } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { ROOT, waitFor } from './support/tether-process.js';

let w: SshWorld;
let net: NetSwitch;
let child: ExecChild | undefined;

interface ControlStatus {
  laptops: { name: string; providers: unknown[] }[];
}

/** The daemon's control API straight from this process (same uid): cheap enough to poll every few ms. */
async function laptops(): Promise<number> {
  const res = await fetch(`${w.world.state.proxyUrl}/_tether/v1/status`, { headers: { 'x-tether-pid': String(process.pid) } });
  const body = (await res.json()) as ControlStatus;
  return body.laptops.filter((l) => l.providers.length > 0).length;
}

describe.skipIf(!sshdAvailable)('network loss on an SSH link', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    const box = await w.sshd('box');
    net = new NetSwitch(box.port);
    await net.start();
    w.trust(box, join(w.sshDir, 'known_hosts'), box.hostKeyLine, net.port);
    w.writeConfig([{ alias: 'box', sshd: box, port: net.port }]);
  });

  afterAll(async () => {
    if (!w) return;
    child?.process.kill('SIGKILL');
    net.restore();
    await w.world.agent?.stop();
    w.stopServerDaemon();
    await net.stop();
    expect(w.world.leaks()).toEqual([]);
    await w.dispose();
  });

  it('leases refused within 3.5 s; backoff visible; link back within 1 s of the network returning', async () => {
    const agent = w.startAgent(['--connect', 'box']);
    await agent.waitForOutput(/connected to box/, 20_000);
    w.daemonState();
    await w.world.waitForLaptops(1);
    const token = (await w.world.token('openai')).stdout.trim();
    expect((await w.world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
    child = new ExecChild(w.world.serverHome, ['--provider', 'openai'], join(ROOT, 'test/clients/exec-probe.mjs'));
    expect(await child.ask()).toMatchObject({ status: 200 });

    net.cut();
    const cutAt = performance.now();
    let refusedMs = 0;
    await waitFor(async () => {
      const res = await w.world.proxy('/openai/v1/chat/completions', token);
      const body = await res.text();
      if (res.status !== 401) return undefined;
      refusedMs = performance.now() - cutAt;
      expect(body).toMatch(/laptop disconnected/);
      return true;
    }, 'lease refused', 8000, 10);
    console.log(`network cut → lease refused in ${refusedMs.toFixed(0)} ms`);
    expect(refusedMs).toBeLessThanOrEqual(3500);

    // The agent notices the silence too and retries with backoff; `tether status` says so.
    const status = await waitFor(async () => {
      const r = await w.world.laptop(['status', '--json'], { env: w.env });
      const s = JSON.parse(r.stdout) as { agent: { servers: { server: string; state: string; reason?: string }[] } };
      const box = s.agent.servers.find((x) => x.server === 'box');
      return box?.reason?.includes('reconnecting') ? box : undefined;
    }, 'agent reconnecting', 8000, 100);
    expect(status.state).not.toBe('READY');
    expect(status.reason).toMatch(/went silent/);
    expect(await laptops()).toBe(0);

    // The exec's child is still running; while the laptop is away its requests fail at once.
    const away = await child!.ask();
    console.log(`laptop away → the exec child's request answered ${away.status} in ${away.ms} ms`);
    expect(away.status).toBe(503);
    expect(away.message).toMatch(/laptop away/);
    expect(away.ms).toBeLessThan(2000);
    const seen = w.world.mock.requests.length;

    net.restore();
    const restoredAt = performance.now();
    await waitFor(async () => ((await laptops()) === 1 ? true : undefined), 'laptop back', 10_000, 10);
    const backMs = performance.now() - restoredAt;
    console.log(`network back → link re-established in ${backMs.toFixed(0)} ms`);
    // The target is 1 s; an idle machine measures 250–330 ms, a loaded 2-core CI box 1.2–1.6 s (the
    // ssh process and the handshake compete with the other suite). Speed is measured in bench/; this
    // bound only proves the agent retries at once rather than after the 5 s backoff ceiling.
    expect(backMs).toBeLessThanOrEqual(3000);

    // The old token stays dead; a new lease works.
    expect((await w.world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    const fresh = await w.world.token('openai');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect((await w.world.proxy('/openai/v1/chat/completions', fresh.stdout.trim())).status).toBe(200);

    // The same child, never restarted, works again (a new lease, through the laptop's policy).
    expect(w.world.mock.requests.length).toBe(seen + 1);
    expect(await child!.ask()).toMatchObject({ status: 200 });
    expect(w.world.mock.requests.at(-1)?.headers.authorization).toBe(`Bearer ${w.world.keys.openai}`);
    const pid = child!.process.pid;
    const withExec = (await w.world.daemonStatus())?.leases.filter((l) => (l as { pid?: number }).pid === pid) ?? [];
    expect(withExec).toHaveLength(1);
    expect(await child!.end()).toBe(0);
    const after = (await w.world.daemonStatus())?.leases.filter((l) => (l as { pid?: number }).pid === pid) ?? [];
    expect(after).toHaveLength(0);
  });
});
