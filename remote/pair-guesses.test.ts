// Pair-code guesses: counted per source and in flight, the same limit on the Unix socket as
// on TCP, and a ban closes what the banned source still has open.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PenaltyBox } from './penalty.js';
import { FakeLaptop, HandshakeRefused } from './testing/fake-laptop.js';
import { daemonPerTest } from './testing/daemon-per-test.js';

const scene = daemonPerTest();

async function guess(target: string): Promise<{ code: string; ms: number }> {
  return guessOn(await FakeLaptop.connect(target));
}

async function guessOn(laptop: FakeLaptop): Promise<{ code: string; ms: number }> {
  scene.laptops.push(laptop);
  const t0 = performance.now();
  const code = await laptop.handshake('WRONGCODE0000').then(
    () => 'accepted',
    (err: unknown) => (err instanceof HandshakeRefused ? err.code : String(err)),
  );
  return { code, ms: performance.now() - t0 };
}

describe('PenaltyBox', () => {
  it('lets a source have only so many attempts under way, and says when it bans one', () => {
    const box = new PenaltyBox({ maxInFlight: 2, banAfter: 2, now: () => 0 });
    const banned: string[] = [];
    box.onBan((s) => banned.push(s));
    expect([box.begin('unix'), box.begin('unix'), box.begin('unix')]).toEqual([true, true, false]);
    box.end('unix');
    expect(box.begin('unix')).toBe(true);
    expect(box.begin('10.0.0.1')).toBe(true); // other sources are counted apart
    expect(box.delayFor('10.0.0.1')).toBe(0);
    box.failure('10.0.0.1');
    expect(box.delayFor('10.0.0.1')).toBe(250);
    box.failure('10.0.0.1');
    box.failure('10.0.0.1');
    expect(banned).toEqual(['10.0.0.1']); // once, when the ban starts
  });
});

describe.each(['unix', 'tcp'] as const)('parallel pair guesses over %s', (transport) => {
  it('are checked one delay after another, and the excess refused at once', async () => {
    const { daemon } = await scene.start({ listen: { host: '127.0.0.1', port: 0 }, penalty: { baseDelayMs: 200, maxDelayMs: 200, banAfter: 100, maxInFlight: 4 } });
    const target = transport === 'unix' ? daemon.socketPath : daemon.listenUrl!;
    // One failure first, so every further guess waits its delay before it is checked.
    expect((await guess(target)).code).toBe('pair-failed');
    // All ten connected (hello received) before any guesses, so they are really in parallel.
    const laptops = await Promise.all(Array.from({ length: 10 }, () => FakeLaptop.connect(target)));
    const answers = await Promise.all(laptops.map(guessOn));
    const limited = answers.filter((a) => a.code === 'rate-limited');
    const checked = answers.filter((a) => a.code === 'pair-failed');
    expect(limited.length).toBeGreaterThanOrEqual(6);
    expect(checked.length).toBeLessThanOrEqual(4);
    for (const a of checked) expect(a.ms).toBeGreaterThanOrEqual(190);
    for (const a of limited) expect(a.ms).toBeLessThan(150);
  });
});

describe('a ban', () => {
  it('closes the connections the banned source has open, not only new ones', async () => {
    const { daemon } = await scene.start({ listen: { host: '127.0.0.1', port: 0 }, penalty: { baseDelayMs: 1, maxDelayMs: 1, banAfter: 3 } });
    const port = Number(new URL(daemon.listenUrl!.replace('wss:', 'https:')).port);
    const idle = Array.from({ length: 5 }, () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.resume();
      return new Promise<number>((resolve) => s.on('close', () => resolve(performance.now())));
    });
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) await guess(daemon.listenUrl!);
    const bannedAt = performance.now();
    const closedAt = await Promise.all(idle);
    for (const at of closedAt) expect(at - bannedAt).toBeLessThan(500);
    expect((await guess(daemon.listenUrl!).catch(() => ({ code: 'closed' }))).code).toMatch(/rate-limited|closed/);
  });
});
