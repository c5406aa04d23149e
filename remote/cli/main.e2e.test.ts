import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeLaptop } from '../testing/fake-laptop.js';
import { tempHome } from '../testing/harness.js';

/**
 * The server CLI as users run it: the single-file bundle (built here from the current
 * source with the same options as build/bundle.mjs), copied to a folder with no
 * node_modules, against a real `tether serve` child process.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;
let bundle: string;
let home: string;
let serve: ChildProcess | undefined;
let laptop: FakeLaptop | undefined;
let policy: 'grant' | 'denied' | 'timeout' | 'unknown-credential' = 'grant';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], { cwd: dir, env: { ...process.env, TETHER_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function answerLeases(l: FakeLaptop): Promise<void> {
  for (;;) {
    const req = await l.next('lease.request').catch(() => undefined);
    if (!req) return;
    if (policy === 'grant') l.send({ t: 'lease.grant', id: req.id, leaseId: `ls_${req.id.slice(3, 15)}`, scope: 'once', ttlMs: 60_000 });
    else l.send({ t: 'lease.deny', id: req.id, reason: policy, message: 'no' });
  }
}

beforeAll(async () => {
  dir = tempHome();
  home = path.join(dir, 'home');
  bundle = path.join(dir, 'tether.cjs');
  await build({
    entryPoints: [path.join(root, 'remote/cli/bin.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    external: ['bufferutil', 'utf-8-validate'],
    logLevel: 'warning',
  });
});

afterAll(async () => {
  laptop?.close();
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tether (server CLI bundle)', () => {
  it('prints help without node_modules around it', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tether token PROVIDER');
    const bad = await run(['frobnicate']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const flag = await run(['status', '--nope']);
    expect(flag.code).toBe(1);
  });

  it('exits 2 with one line when no daemon runs', async () => {
    const r = await run(['token', 'openai']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`tether: no tether daemon is running under ${home}: start one with \`tether serve\` (the laptop's agent normally does this over SSH)\n`);
  });

  it('serves, pairs, leases, denies, and stops cleanly', async () => {
    serve = spawn(process.execPath, [bundle, 'serve', '--proxy-port', '0', '--server-id', 'cli-box', '--request-timeout-ms', '3000'], {
      cwd: dir,
      env: { ...process.env, TETHER_HOME: home },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    await new Promise<void>((resolve) =>
      serve!.stderr!.on('data', (c: Buffer) => {
        log += c.toString();
        if (log.includes('listening on')) resolve();
      }),
    );
    expect(log).toMatch(/daemon cli-box \(SHA256:\S+\) listening on \S+tether\.sock; proxy at http:\/\/127\.0\.0\.1:\d+/);

    const pair = await run(['pair-code', '--json']);
    expect(pair.code).toBe(0);
    const { code, socket } = JSON.parse(pair.stdout) as { code: string; socket: string };
    const readable = await run(['pair-code']);
    expect(readable.stdout).toMatch(/tether agent --connect unix:\S+ --pair [0-9A-Z-]{16}/);

    laptop = await FakeLaptop.connect(socket, { name: 'alice-mbp' });
    await laptop.handshake(code);
    laptop.startHeartbeat(300);
    laptop.offer([
      { name: 'openai', provider: 'openai', mode: 'relay' },
      { name: 'anthropic', provider: 'anthropic', mode: 'relay' },
    ]);
    void answerLeases(laptop);

    // The offer is in once status shows it.
    let status: { laptops: { providers: unknown[] }[] } = { laptops: [] };
    while (!status.laptops[0]?.providers.length) status = JSON.parse((await run(['status', '--json'])).stdout);

    const token = await run(['token', 'openai']);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^tth_[A-Za-z0-9_-]{43}\n$/);

    const env = await run(['env']);
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/^export OPENAI_BASE_URL='http:\/\/127\.0\.0\.1:\d+\/openai\/v1'$/m);
    expect(env.stdout).toMatch(/^export OPENAI_API_KEY='tth_[A-Za-z0-9_-]{43}'$/m);
    expect(env.stdout).toMatch(/^export ANTHROPIC_BASE_URL='http:\/\/127\.0\.0\.1:\d+\/anthropic'$/m);

    const exec = await run(['exec', '--provider', 'anthropic', '--', process.execPath, '-e', 'console.log(process.env.ANTHROPIC_API_KEY); process.exit(7)']);
    expect(exec.code).toBe(7);
    expect(exec.stdout).toMatch(/^tth_/);
    // exec releases its lease when the child exits.
    const released = await laptop.next('lease.ended', (m) => m.reason === 'released');
    expect(released.reason).toBe('released');

    const text = await run(['status']);
    expect(text.stdout).toContain('alice-mbp');
    expect(text.stdout).not.toMatch(/tth_/);

    policy = 'denied';
    const denied = await run(['token', 'openai']);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toBe('tether: denied on the laptop (alice-mbp): ask its owner, or approve it there next time\n');
    policy = 'timeout';
    expect((await run(['token', 'openai'])).code).toBe(4);
    policy = 'grant';
    const unknown = await run(['token', 'gemini']);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('it offers: openai, anthropic');
    expect((await run(['token', 'openai', '--as', 'bob'])).code).toBe(1);
    expect((await run(['token', 'openai'], { TETHER_AS: 'bob' })).code).toBe(1);

    const exited = new Promise<number | null>((resolve) => serve!.once('exit', (c) => resolve(c)));
    serve.kill('SIGTERM');
    expect((await laptop.next('bye')).t).toBe('bye');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(home, 'run/daemon.json'))).toBe(false);
    expect(log).not.toMatch(/tth_/);
  });
});
