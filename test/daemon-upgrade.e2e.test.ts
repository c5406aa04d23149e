// A daemon started over SSH follows the laptop: it runs the laptop's heartbeat, and a daemon
// of another bundle is replaced when nobody else uses it, or kept (and the laptop told so in
// one line) while another laptop is linked, then replaced once no laptop is. Real sshd.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdAvailable } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { ROOT, TetherProcess, runTether, waitFor } from './support/tether-process.js';

let w: SshWorld;
/** Three server bundles: the built one, and two copies that differ by a comment (another build). */
const bundles: { file: string; sha: string }[] = [];
let laptopB: TetherProcess | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function bundleEnv(i: number): Record<string, string> {
  return { TETHER_REMOTE_BUNDLE: bundles[i]!.file };
}

async function serverStatus(): Promise<{ pid: number; bundle?: string; heartbeatMs?: number; retiring?: boolean; laptops: { name: string }[] }> {
  const r = await w.world.server(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Awaited<ReturnType<typeof serverStatus>>;
}

describe.skipIf(!sshdAvailable)('the daemon over SSH follows the laptop (heartbeat, bundle)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    const box = await w.sshd('box');
    w.trust(box);
    w.writeConfig([{ alias: 'box', sshd: box }]);
    // Copies taken now: other builds of dist/ during the run must not change what this suite uploads.
    for (let i = 0; i < 3; i++) {
      const file = join(w.world.root, `bundle-${i}.cjs`);
      copyFileSync(join(ROOT, 'dist/remote/tether.cjs'), file);
      if (i > 0) appendFileSync(file, `\n// another build ${i} ${randomBytes(4).toString('hex')}\n`);
      bundles.push({ file, sha: createHash('sha256').update(readFileSync(file)).digest('hex') });
    }
    // The Settings page's heartbeat: 2 s instead of the default 1 s.
    mkdirSync(w.world.laptopHome, { recursive: true });
    writeFileSync(join(w.world.laptopHome, 'settings.json'), JSON.stringify({ heartbeatS: 2 }) + '\n');
  });

  afterAll(async () => {
    if (!w) return;
    await laptopB?.stop();
    await w.world.agent?.stop();
    w.stopServerDaemon();
    await waitFor(() => !w.daemonState() || undefined, 'daemon gone', 5000).catch(() => undefined);
    expect(w.world.leaks()).toEqual([]);
    await w.dispose();
  });

  it("a daemon started over SSH runs the laptop's heartbeat: its dead-man timer fires after 3 of them", async () => {
    const agent = w.startAgent(['--connect', 'box'], bundleEnv(0));
    await agent.waitForOutput(/connected to box/, 20_000);
    await w.world.waitForLaptops(1);
    expect(w.daemonState()!.heartbeatMs).toBe(2000);
    expect(w.daemonState()!.bundle).toBe(bundles[0]!.sha);
    const status = await serverStatus();
    expect(status.heartbeatMs).toBe(2000);
    const text = await w.world.server(['status']);
    expect(text.stdout).toMatch(/heartbeat 2000 ms/);

    // A frozen laptop: with the default 1 s the token would die within 3 s; with 2 s, not before 4 s.
    const t = await w.world.token('openai');
    expect(t.code, t.stderr).toBe(0);
    const token = t.stdout.trim();
    expect((await w.world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);
    process.kill(agent.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    try {
      await waitFor(async () => ((await w.world.proxy('/openai/v1/chat/completions', token)).status === 401 ? true : undefined), '401 after the dead-man timer', 15_000, 100);
    } finally {
      process.kill(agent.pid, 'SIGCONT');
    }
    const elapsed = Date.now() - stoppedAt;
    console.log(`SIGSTOP → 401 with a 2 s heartbeat: ${elapsed} ms`);
    expect(elapsed).toBeGreaterThan(3500);
    expect(elapsed).toBeLessThan(9000);
    await agent.stop();
  });

  it('a new bundle replaces the daemon when no other laptop uses it: the new one runs', async () => {
    const old = w.daemonState()!;
    expect(alive(old.pid)).toBe(true);
    const agent = w.startAgent(['--connect', 'box'], bundleEnv(1));
    await agent.waitForOutput(/connected to box/, 20_000);
    expect(agent.text).toMatch(/installed tether on box/);
    expect(agent.text).toMatch(/replaced the daemon on box/);
    const now = w.daemonState()!;
    expect(now.pid).not.toBe(old.pid);
    expect(now.bundle).toBe(bundles[1]!.sha);
    // Started by `tether attach`: malloc's mmap threshold is pinned (remote/daemon-launcher.ts, bench/SOAK.md).
    expect(readFileSync(`/proc/${now.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    expect(alive(old.pid)).toBe(false);
    expect(readFileSync(join(w.world.serverHome, 'run/daemon.log'), 'utf8')).toMatch(/making way for a new daemon/);

    await w.world.waitForLaptops(1);
    const t = await w.world.token('openai');
    expect(t.code, t.stderr).toBe(0);
    w.world.tokens.add(t.stdout.trim());
    expect((await w.world.proxy('/openai/v1/chat/completions', t.stdout.trim())).status).toBe(200);
    const laptopStatus = await w.world.laptop(['status', '--json'], { env: w.env });
    expect(JSON.parse(laptopStatus.stdout).agent.servers[0].note).toBeUndefined();
    await agent.stop();
  });

  it('kept while another laptop is linked (one line in `tether status`), replaced once no laptop is', async () => {
    // Laptop B, with its own home and key, links to the running daemon (bundle 1).
    const bHome = join(w.world.root, 'laptop-b');
    const bEnv = { ...w.env, TETHER_VAULT_PASSPHRASE: 'b-passphrase', ...bundleEnv(1) };
    const added = await runTether(['creds', 'add', 'openai', '--base-url', w.world.mock.url, '--store', 'file'], { home: bHome, env: bEnv, input: `${w.world.keys.openai}\n` });
    expect(added.code, added.stderr).toBe(0);
    laptopB = new TetherProcess(['agent', '--connect', 'box', '--name', 'laptop-b', '--approve', 'allow', '--store', 'file'], { home: bHome, env: bEnv, logFile: w.world.logFile('agent-b') });
    await laptopB.waitForOutput(/connected to box/, 20_000);
    const old = w.daemonState()!;

    // Laptop A comes with bundle 2: the daemon stays, A links to it and is told why in one line.
    const agent = w.startAgent(['--connect', 'box'], bundleEnv(2));
    await agent.waitForOutput(/connected to box/, 20_000);
    expect(w.daemonState()!.pid).toBe(old.pid);
    const st = await w.world.laptop(['status', '--json'], { env: w.env });
    const note = JSON.parse(st.stdout).agent.servers[0].note as string;
    expect(note).toMatch(/box runs an older daemon .*bundle [0-9a-f]{12}.*other laptops are linked \(laptop-b\).*replaced once no laptop is linked/);
    expect(note.split('\n')).toHaveLength(1);
    const text = await w.world.laptop(['status'], { env: w.env });
    expect(text.stdout).toContain(`note: ${note}`);
    expect((await serverStatus()).retiring).toBe(true);
    await w.world.waitForLaptops(2);

    // B leaves: A still uses the old daemon, which stays.
    await laptopB.stop();
    await w.world.waitForLaptops(1);
    expect(alive(old.pid)).toBe(true);
    // A leaves too: nobody is linked, so the old daemon goes by itself.
    await agent.stop();
    await waitFor(() => (!alive(old.pid) ? true : undefined), 'the old daemon gone once no laptop is linked', 10_000);

    // A's next connect starts a daemon of bundle 2 (already uploaded, so no upload).
    const again = w.startAgent(['--connect', 'box'], bundleEnv(2));
    await again.waitForOutput(/connected to box/, 20_000);
    expect(again.text).not.toMatch(/installed tether/);
    const now = w.daemonState()!;
    expect(now.pid).not.toBe(old.pid);
    expect(now.bundle).toBe(bundles[2]!.sha);
    const after = await w.world.laptop(['status', '--json'], { env: w.env });
    expect(JSON.parse(after.stdout).agent.servers[0].note).toBeUndefined();
    await again.stop();
  });
});
