// The SSH transport against a real OpenSSH sshd: Host alias, ssh-agent auth, hashed
// known_hosts, bundle upload once, one daemon, the full lend → use → disconnect → 401 cycle,
// host keys unknown or changed refused with the fingerprint, ProxyJump through a second sshd.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdAvailable } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { ROOT, waitFor } from './support/tether-process.js';

const client = join(ROOT, 'test/clients/sdk-client.mjs');
let w: SshWorld;

describe.skipIf(!sshdAvailable)('SSH transport (real sshd)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    const box = await w.sshd('box');
    const jump = await w.sshd('jump');
    w.trust(box);
    w.trust(jump);
    // A known_hosts that names box's address with some other key: what a MITM would look like.
    const otherKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbJJZ0v6Xp3ib7Ky7cP5sCkTn3m2N5vE0Qq6y3cYb1Z';
    const changedFile = join(w.sshDir, 'known_hosts_changed');
    writeFileSync(changedFile, '');
    w.trust(box, changedFile, otherKey);
    w.writeConfig([
      { alias: 'box', sshd: box },
      { alias: 'stranger', sshd: box, extra: [`UserKnownHostsFile ${join(w.sshDir, 'known_hosts_empty')}`] },
      { alias: 'impostor', sshd: box, extra: [`UserKnownHostsFile ${changedFile}`] },
      { alias: 'jump', sshd: jump, serverHome: false },
      { alias: 'inner', sshd: box, extra: ['ProxyJump jump'] },
    ]);
  });

  afterAll(async () => {
    if (!w) return;
    await w.world.agent?.stop();
    w.stopServerDaemon();
    await waitFor(() => !w.daemonState() || undefined, 'daemon gone', 5000).catch(() => undefined);
    // Test 7: nothing secret on the server's disk (its TETHER_HOME, daemon log) or in any log.
    expect(w.world.leaks()).toEqual([]);
    await w.dispose();
  });

  it('lists the hosts of ~/.ssh/config', async () => {
    const r = await w.world.laptop(['servers', 'list', '--json'], { env: w.env });
    expect(r.code, r.stderr).toBe(0);
    const hosts = JSON.parse(r.stdout) as { name: string; port: number; proxyJump: string[] }[];
    expect(hosts.map((h) => h.name)).toEqual(['box', 'stranger', 'impostor', 'jump', 'inner']);
    expect(hosts.find((h) => h.name === 'inner')?.proxyJump).toEqual(['jump']);
  });

  it('connects by Host alias with ssh-agent auth, uploads the bundle once, starts one daemon; lend → SDK → bye → 401', async () => {
    const agent = w.startAgent(['--connect', 'box']);
    await agent.waitForOutput(/connected to box/, 20_000);
    expect(agent.text).toMatch(/installed tether on box/);
    const bundle = join(w.world.serverHome, 'bin/tether.cjs');
    const first = statSync(bundle);
    expect(first.mode & 0o777).toBe(0o700);
    const daemon = w.daemonState()!;
    await w.world.waitForLaptops(1);

    // The official SDK, through `tether exec` on the server.
    const r = await w.world.server(['exec', '--provider', 'openai', '--', process.execPath, client, 'openai', 'plain']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).text).toMatch(/Hello from the mock provider/);
    expect(w.world.mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${w.world.keys.openai}`);

    const t = await w.world.token('openai');
    const token = t.stdout.trim();
    expect((await w.world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
    await agent.stop();
    const res = await w.world.proxy('/openai/v1/chat/completions', token);
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/laptop disconnected/);

    // Again: the bundle is unchanged (same file, not rewritten) and the same daemon is reused.
    const again = w.startAgent(['--connect', 'box']);
    await again.waitForOutput(/connected to box/, 20_000);
    expect(again.text).not.toMatch(/installed tether/);
    expect(statSync(bundle).ino).toBe(first.ino);
    expect(statSync(bundle).mtimeMs).toBe(first.mtimeMs);
    expect(w.daemonState()!.pid).toBe(daemon.pid);
    await again.stop();
  });

  it('refuses an unknown host key, naming its fingerprint', async () => {
    const r = await w.world.laptop(['agent', '--connect', 'stranger', '--approve', 'allow'], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown host key for stranger/);
    expect(r.stderr).toContain(w.sshds[0]!.fingerprint);
  });

  it('refuses a changed host key loudly, naming its fingerprint', async () => {
    const r = await w.world.laptop(['agent', '--connect', 'impostor', '--approve', 'allow'], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/HOST KEY CHANGED for impostor/);
    expect(r.stderr).toContain(w.sshds[0]!.fingerprint);
  });

  it('connects through ProxyJump (a second sshd)', async () => {
    const agent = w.startAgent(['--connect', 'inner']);
    await agent.waitForOutput(/connected to inner/, 20_000);
    await w.world.waitForLaptops(1);
    const t = await w.world.token('anthropic');
    expect(t.code, t.stderr).toBe(0);
    expect((await w.world.proxy('/anthropic/v1/messages', t.stdout.trim(), { headerName: 'x-api-key', body: { model: 'mock-1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } })).status).toBe(200);
    // The jump host saw the login and the forward to box.
    const jumpLog = readFileSync(w.sshds[1]!.log, 'utf8');
    expect(jumpLog).toMatch(/Accepted publickey for root/);
    await agent.stop();
  });
});
