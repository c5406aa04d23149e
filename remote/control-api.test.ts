import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAIR_CODE_ALPHABET, normalizePairCode } from '../protocol/index.js';
import { remotePaths } from './paths.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, controlCall, pairedLaptop } from './testing/harness.js';
import { DAEMON_CONTROL_VERSION } from '../protocol/daemon-control.js';

const scene = daemonPerTest();

/** Runs a one-line HTTP client as another uid and returns what it printed. */
function callAs(uid: number, url: string): Promise<string> {
  const script = `require('http').get(${JSON.stringify(url)}, (r) => { let b=''; r.on('data', c => b += c); r.on('end', () => console.log(r.statusCode + ' ' + b)); })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'], cwd: '/' });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
}

describe('control API', () => {
  it('writes run/daemon.json once up, and removes it and the socket on close', async () => {
    const started = await scene.start();
    const paths = remotePaths(started.home);
    const state = JSON.parse(fs.readFileSync(paths.daemonJson, 'utf8'));
    expect(state).toMatchObject({ pid: process.pid, serverId: 'test-box', socket: started.daemon.socketPath, proxyUrl: started.daemon.proxyUrl });
    expect(fs.statSync(paths.daemonDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(paths.identity).mode & 0o777).toBe(0o600);
    await started.daemon.close();
    expect(fs.existsSync(paths.daemonJson)).toBe(false);
    expect(fs.existsSync(started.daemon.socketPath)).toBe(false);
  });

  it('keeps the daemon key across restarts', async () => {
    const started = await scene.start();
    const first = started.daemon.fingerprint;
    await started.daemon.close();
    const { createDaemon } = await import('./daemon.js');
    const again = await createDaemon({ home: started.home });
    expect(again.fingerprint).toBe(first);
    await again.close();
  });

  it('issues pair codes as XXXX-XXXX-XXXX-X with the daemon fingerprint', async () => {
    const started = await scene.start();
    const answer = (await controlCall(started.daemon, 'POST', 'pair-code')).json() as Record<string, string>;
    expect(answer.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]$/);
    expect([...normalizePairCode(answer.code!)].every((c) => PAIR_CODE_ALPHABET.includes(c))).toBe(true);
    expect(answer.fingerprint).toBe(started.daemon.fingerprint);
    expect(Date.parse(answer.expiresAt!) - Date.now()).toBeGreaterThan(9 * 60 * 1000);
  });

  it('reports status with laptops and their offers', async () => {
    const started = await scene.start();
    const laptop = await pairedLaptop(started.daemon, { name: 'alice-mbp', offer: ['openai', 'work-anthropic'] });
    scene.laptops.push(laptop);
    const status = (await controlCall(started.daemon, 'GET', 'status')).json();
    expect(status).toMatchObject({
      serverId: 'test-box',
      fingerprint: started.daemon.fingerprint,
      pid: process.pid,
      proxyUrl: started.daemon.proxyUrl,
      socket: started.daemon.socketPath,
      laptops: [{ name: 'alice-mbp', agentId: expect.stringMatching(/^SHA256:/), providers: [{ name: 'openai', provider: 'openai' }, { name: 'work-anthropic', provider: 'anthropic' }], leases: 0 }],
      leases: [],
    });
  });

  it('answers an unknown call with unknown-call and a bad body with bad-request', async () => {
    const started = await scene.start();
    const unknown = await controlCall(started.daemon, 'GET', 'nope');
    expect(unknown.status).toBe(404);
    expect((unknown.json() as { error: { code: string } }).error.code).toBe('unknown-call');
    const bad = await controlCall(started.daemon, 'POST', 'release', { token: 5 });
    expect((bad.json() as { error: { code: string } }).error.code).toBe('bad-request');
  });

  it('speaks v2 (`credential`) and, without the version header, v1 (`provider`); refuses another version by name', async () => {
    const started = await scene.start();
    const laptop = await pairedLaptop(started.daemon, { offer: ['openai'] });
    scene.laptops.push(laptop);
    const stop = autoGrant(laptop);
    const v2 = await controlCall(started.daemon, 'POST', 'lease', { credential: 'openai' }, '2');
    expect(v2.status).toBe(200);
    expect(v2.json()).toMatchObject({ name: 'openai', token: expect.stringMatching(/^tth_/) });
    expect((await controlCall(started.daemon, 'POST', 'lease', { provider: 'openai' })).status).toBe(200);
    stop();
    // v2 is strict: the v1 field name is an unknown key there.
    const mixed = await controlCall(started.daemon, 'POST', 'lease', { provider: 'openai' }, '2');
    expect(mixed.status).toBe(400);
    expect(mixed.json()).toMatchObject({ error: { code: 'bad-request' } });
    const future = await controlCall(started.daemon, 'GET', 'status', undefined, '9');
    expect(future.status).toBe(400);
    expect(future.headers['x-tether-error']).toBe('version-mismatch');
    expect((future.json() as { error: { message: string } }).error.message).toMatch(/v9.*v1 and v2/);
    // The daemon says which version it speaks, for the CLI to pick.
    expect(JSON.parse(fs.readFileSync(remotePaths(started.home).daemonJson, 'utf8')).controlVersion).toBe(DAEMON_CONTROL_VERSION);
  });

  it.runIf(process.getuid?.() === 0)('refuses callers of another uid with 403 other-user (needs root to switch uid)', async () => {
    const started = await scene.start();
    const out = await callAs(65534, `${started.daemon.proxyUrl}/_tether/v1/status`);
    expect(out).toMatch(/^403 /);
    expect(JSON.parse(out.slice(4)).error.code).toBe('other-user');
  });
});
