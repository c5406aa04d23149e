import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preAuthDeadlines } from './daemon.js';
import { remotePaths } from './paths.js';
import { FakeLaptop, HandshakeRefused, newAgentKey } from './testing/fake-laptop.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { controlCall, pairedLaptop, startDaemon } from './testing/harness.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';

const scene = daemonPerTest();

async function daemon(opts: Parameters<typeof startDaemon>[0] = {}) {
  return (await scene.start(opts)).daemon;
}

async function connect(opts: { key?: ReturnType<typeof newAgentKey>; name?: string } = {}) {
  const laptop = await FakeLaptop.connect(scene.started.daemon.socketPath, opts);
  scene.laptops.push(laptop);
  return laptop;
}

async function issueCode(): Promise<string> {
  return ((await controlCall(scene.started.daemon, 'POST', 'pair-code')).json() as { code: string }).code;
}

async function refusedWith(laptop: FakeLaptop, answer: Promise<unknown>): Promise<{ code: string; close: number }> {
  const code = await answer.then(
    () => 'accepted',
    (err: unknown) => (err instanceof HandshakeRefused ? err.code : String(err)),
  );
  return { code, close: (await laptop.closed).code };
}

describe('handshake', () => {
  it('pairs with a code, then authenticates on a later connection', async () => {
    const d = await daemon();
    const key = newAgentKey();
    const code = await issueCode();
    const first = await connect({ key, name: 'alice-mbp' });
    const welcome = await first.handshake(code);
    expect(first.checkWelcome(welcome, code)).toBe(true);
    expect(welcome.agentId).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const authorized = JSON.parse(fs.readFileSync(remotePaths(scene.started.home).authorizedAgents, 'utf8'));
    expect(authorized).toEqual([expect.objectContaining({ agentKey: first.agentKey, name: 'alice-mbp', fingerprint: welcome.agentId })]);
    expect(fs.statSync(remotePaths(scene.started.home).authorizedAgents).mode & 0o777).toBe(0o600);
    first.close();

    const second = await connect({ key, name: 'alice-mbp' });
    const again = await second.handshake();
    expect(second.checkWelcome(again)).toBe(true);
    expect(again.mac).toBeUndefined();
    expect(d.links().map((l) => l.name)).toContain('alice-mbp');
  });

  it('refuses a wrong pair code and a reused one with pair-failed / 4403', async () => {
    await daemon();
    const code = await issueCode();
    const wrong = await connect();
    expect(await refusedWith(wrong, wrong.handshake('AAAA-AAAA-AAAA-A'))).toEqual({ code: 'pair-failed', close: 4403 });

    const good = await connect();
    await good.handshake(code);
    const reuse = await connect();
    expect(await refusedWith(reuse, reuse.handshake(code))).toEqual({ code: 'pair-failed', close: 4403 });
  });

  it('refuses an expired pair code', async () => {
    await daemon({ pairCodeTtlMs: 1 });
    const code = await issueCode();
    await new Promise((r) => setTimeout(r, 5)); // the code's whole life is 1 ms
    const laptop = await connect();
    expect(await refusedWith(laptop, laptop.handshake(code))).toEqual({ code: 'pair-failed', close: 4403 });
  });

  it('refuses an unknown agent key with not-authorized / 4403', async () => {
    await daemon();
    const laptop = await connect();
    expect(await refusedWith(laptop, laptop.handshake())).toEqual({ code: 'not-authorized', close: 4403 });
  });

  it('refuses an auth replayed from an earlier connection', async () => {
    const d = await daemon();
    const key = newAgentKey();
    const first = await pairedLaptop(d, { key, offer: [] });
    scene.laptops.push(first);
    const recorded = first.authMessage();
    first.close();

    const replay = await connect({ key });
    const answer = replay.answerToHandshake();
    replay.send(recorded); // same signature and agent nonce; the daemon's nonce is new
    expect(await refusedWith(replay, answer)).toEqual({ code: 'auth-failed', close: 4403 });
  });

  it('closes 4401 when no auth arrives before the deadline', async () => {
    await daemon({ handshakeTimeoutMs: 100 });
    const laptop = await connect();
    const error = await laptop.next('error');
    expect(error.code).toBe('handshake-timeout');
    expect((await laptop.closed).code).toBe(4401);
  });

  it('keeps the default deadline at 5 s, counted from the connection: a refusal frame in time, then closed', async () => {
    expect(preAuthDeadlines({})).toMatchObject({ handshakeTimeoutMs: 5000, limits: { preAuthMs: 5000 } });
    // Both deadlines equal, as by default, and short so the test does not wait out the real 5 s.
    const deadlineMs = 1000;
    await daemon({ handshakeTimeoutMs: deadlineMs, preAuth: { preAuthMs: deadlineMs } });
    const t0 = Date.now();
    const laptop = await connect();
    expect((await laptop.next('error')).code).toBe('handshake-timeout');
    expect((await laptop.closed).code).toBe(4401);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(deadlineMs - 300);
    expect(Date.now() - t0).toBeLessThan(deadlineMs + 200);
  });

  it('a penalty wait longer than the deadline still ends in the answer: the daemon\'s wait is not the peer\'s', async () => {
    await daemon({ preAuth: { preAuthMs: 600 }, penalty: { baseDelayMs: 900, maxDelayMs: 900 } });
    const first = await connect();
    expect(await refusedWith(first, first.handshake())).toEqual({ code: 'not-authorized', close: 4403 });
    // The next attempt waits 900 ms before it is checked, past the 600 ms budget from accept.
    const second = await connect();
    expect(await refusedWith(second, second.handshake())).toEqual({ code: 'not-authorized', close: 4403 });
    // A peer that says nothing is still closed at its deadline.
    const silent = await connect();
    expect((await silent.closed).code).toBe(4401);
  });

  it('closes 1009 on a frame over 1 MiB and keeps serving others', async () => {
    const d = await daemon();
    const big = await connect();
    big.sendText('x'.repeat(1024 * 1024 + 1));
    expect((await big.closed).code).toBe(1009);
    const other = await pairedLaptop(d, { offer: [] });
    scene.laptops.push(other);
    expect(d.links()).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', 'bad-json', 4400, '{"t":'],
    ['an unknown type', 'unknown-type', 4400, '{"t":"steal-keys"}'],
    ['an older version', 'version-mismatch', 4426, '{"t":"auth","v":1}'],
    ['a message out of turn', 'unexpected-message', 4400, '{"t":"hb"}'],
  ])('answers %s during the handshake with %s and closes %i', async (_what, code, close, text) => {
    const d = await daemon();
    const laptop = await connect();
    laptop.sendText(text);
    expect((await laptop.next('error')).code).toBe(code);
    expect((await laptop.closed).code).toBe(close);
    const other = await pairedLaptop(d, { offer: [] });
    scene.laptops.push(other);
    expect(d.links()).toHaveLength(1);
  });

  it('after the handshake answers malformed or unknown messages but stays up', async () => {
    const d = await daemon();
    const laptop = await pairedLaptop(d, { offer: [] });
    scene.laptops.push(laptop);
    laptop.sendText('{"t":');
    expect((await laptop.next('error')).code).toBe('bad-json');
    laptop.sendText('{"t":"steal-keys"}');
    expect((await laptop.next('error')).code).toBe('unknown-type');
    laptop.send({ t: 'hello', v: PROTOCOL_VERSION, serverId: 'x', serverKey: laptop.agentKey, nonce: laptop.nonce });
    expect((await laptop.next('error')).code).toBe('unexpected-message');
    laptop.sendFrame(new Uint8Array([1, 0, 0, 0, 99, 1]));
    expect((await laptop.next('error')).code).toBe('unknown-stream');
    laptop.send({ t: 'hb' });
    await laptop.next('hb');
    expect(d.links()).toHaveLength(1);
  });

  it('closes a link 4426 on a wrong version and 4400 after 20 errors in a minute', async () => {
    const d = await daemon();
    const a = await pairedLaptop(d, { offer: [] });
    scene.laptops.push(a);
    a.sendText('{"t":"hb","v":9}');
    expect((await a.next('error')).code).toBe('version-mismatch');
    expect((await a.closed).code).toBe(4426);

    const b = await pairedLaptop(d, { offer: [] });
    scene.laptops.push(b);
    for (let i = 0; i < 21; i++) b.sendText('{"t":"nope"}');
    expect((await b.closed).code).toBe(4400);
  });

  it('never bans the Unix socket, however many failures (network bans: units.test.ts)', async () => {
    const { PenaltyBox } = await import('./penalty.js');
    const box = new PenaltyBox();
    for (let i = 0; i < 5; i++) box.failure('unix');
    expect(box.isBanned('unix')).toBe(false);
    await daemon({ penalty: { baseDelayMs: 1, maxDelayMs: 2 } });
    for (let i = 0; i < 6; i++) {
      const l = await connect();
      expect(await refusedWith(l, l.handshake())).toEqual({ code: 'not-authorized', close: 4403 });
    }
  });
});

describe('the socket', () => {
  it('is 0600 in a 0700 folder and answers plain HTTP with 426', async () => {
    const d = await daemon();
    expect(fs.statSync(d.socketPath).mode & 0o777).toBe(0o600);
    expect(fs.statSync(remotePaths(scene.started.home).runDir).mode & 0o777).toBe(0o700);
    const status = await new Promise<number>((resolve, reject) => {
      http.get({ socketPath: d.socketPath, path: '/' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(426);
  });

  it('refuses to start over a live daemon\'s socket and replaces a stale one', async () => {
    const d = await daemon();
    const home = scene.started.home;
    await expect(startDaemon({ socketPath: d.socketPath })).rejects.toThrow(/already listening/);
    await d.close();
    fs.writeFileSync(path.join(home, 'not-a-socket'), '');
    await expect(startDaemon({ socketPath: path.join(home, 'not-a-socket') })).rejects.toThrow(/not a socket/);
    // A socket file left by a crashed daemon: a child binds it and is killed before it can clean up.
    const stale = path.join(home, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(fs.statSync(stale).isSocket()).toBe(true);
    const again = await startDaemon({ socketPath: stale });
    expect(fs.statSync(stale).isSocket()).toBe(true);
    await again.stop();
  });
});
