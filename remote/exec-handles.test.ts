import { describe, expect, it } from 'vitest';
import { FakeLaptop, newAgentKey } from './testing/fake-laptop.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { controlCall, pairedLaptop, request, type Started } from './testing/harness.js';

const scene = daemonPerTest();

function ask(s: Started, token: string) {
  return request(`${s.daemon.proxyUrl}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{"model":"m"}',
  });
}

/** Grants the next lease request; resolves with the lease id granted. */
async function grantNext(laptop: FakeLaptop): Promise<string> {
  const req = await laptop.next('lease.request');
  const leaseId = `ls_${Math.random().toString(36).slice(2)}xxxxxxxx`;
  laptop.send({ t: 'lease.grant', id: req.id, leaseId, scope: 'connection', ttlMs: 60_000 });
  return leaseId;
}

function answerStreams(laptop: FakeLaptop, seen: string[]): void {
  laptop.onRelayOpen = (stream) => {
    seen.push(stream.open.leaseId);
    void stream.requestBody().then(() => {
      stream.head(200);
      stream.send(Buffer.from('{"ok":true}'));
      stream.end();
    });
  };
}

describe('exec handles', () => {
  it('outlive the link: 503 "laptop away" at once, one new lease for concurrent requests once back, gone on release', async () => {
    const s = await scene.start({ heartbeatMs: 60_000 });
    const key = newAgentKey();
    const first = await pairedLaptop(s.daemon, { key, name: 'lap' });
    scene.laptops.push(first);
    const granted = grantNext(first);
    const leased = await controlCall(s.daemon, 'POST', 'lease', { provider: 'openai', purpose: 'exec', handle: true });
    expect(leased.status).toBe(200);
    const { token, leaseId } = leased.json() as { token: string; leaseId: string };
    expect(leaseId).toBe(await granted);
    expect(token).toMatch(/^tth_/);
    // The handle is not the lease's own token.
    expect(s.daemon.leases.list().map((l) => l.token)).not.toContain(token);
    const seen: string[] = [];
    answerStreams(first, seen);
    expect((await ask(s, token)).status).toBe(200);
    expect(seen).toEqual([leaseId]);

    first.close();
    while (s.daemon.links().length) await new Promise((r) => setTimeout(r, 5));
    expect(s.daemon.leases.list()).toEqual([]);
    const away = await ask(s, token);
    expect(away.status).toBe(503);
    expect(away.code()).toBe('laptop-away');
    // It names the laptop the user must bring back.
    expect(away.json()).toMatchObject({ error: { type: 'server_error', message: expect.stringMatching(/^tether: laptop away: lap /) } });

    // Back (same agent key, a new link): two requests at once share one lease request.
    const again = await FakeLaptop.connect(s.daemon.socketPath, { key, name: 'lap' });
    scene.laptops.push(again);
    await again.handshake();
    again.offer([{ name: 'openai', provider: 'openai', mode: 'relay' }]);
    while (!s.daemon.links()[0]?.providers.length) await new Promise((r) => setTimeout(r, 5));
    answerStreams(again, seen);
    const both = Promise.all([ask(s, token), ask(s, token)]);
    const renewed = await grantNext(again);
    expect((await both).map((a) => a.status)).toEqual([200, 200]);
    expect(seen.slice(1)).toEqual([renewed, renewed]);
    expect(s.daemon.leases.list().map((l) => l.leaseId)).toEqual([renewed]);

    const released = await controlCall(s.daemon, 'POST', 'release', { token });
    expect(released.json()).toEqual({ released: true });
    expect(s.daemon.leases.list()).toEqual([]);
    const ended = await ask(s, token);
    expect(ended.status).toBe(401);
    expect(ended.code()).toBe('exec-ended');
  });

  it('a lease asked without handle stays a plain lease', async () => {
    const s = await scene.start();
    const laptop = await pairedLaptop(s.daemon);
    scene.laptops.push(laptop);
    const granted = grantNext(laptop);
    const leased = await controlCall(s.daemon, 'POST', 'lease', { provider: 'openai', purpose: 'exec' });
    await granted;
    expect(s.daemon.leases.list().map((l) => l.token)).toContain((leased.json() as { token: string }).token);
  });
});
