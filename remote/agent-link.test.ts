import { describe, expect, it } from 'vitest';
import { FakeLaptop } from './testing/fake-laptop.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, controlCall, leaseToken, pairedLaptop, request, startDaemon } from './testing/harness.js';

const scene = daemonPerTest();

async function setup(opts: Parameters<typeof startDaemon>[0] = {}, names: string[] = ['alice-mbp']) {
  const started = await scene.start(opts);
  const made: FakeLaptop[] = [];
  for (const name of names) {
    const laptop = await pairedLaptop(started.daemon, { name, offer: ['openai', 'anthropic'] });
    scene.laptops.push(laptop);
    made.push(laptop);
  }
  return { daemon: started.daemon, laptops: made };
}

type ErrorBody = { error: { code: string; message: string } };

/** A proxy request's refusal: its status, its code (header and body), and why, which the user reads. */
async function proxyWhy(proxyUrl: string, token: string): Promise<{ status: number; code: string | undefined; message: string }> {
  const answer = await request(`${proxyUrl}/openai/v1/models`, { headers: { authorization: `Bearer ${token}` } });
  return { status: answer.status, code: answer.code(), message: (answer.json() as { error: { message: string } }).error.message };
}

describe('lease requests through POST /_tether/v1/lease', () => {
  it('grants: the laptop sees the request with the calling process, the tool gets a token', async () => {
    const { daemon, laptops: [laptop] } = await setup({ maxLeaseTtlMs: 30_000 });
    const answer = controlCall(daemon, 'POST', 'lease', { provider: 'openai', purpose: 'env' });
    const req = await laptop!.next('lease.request');
    expect(req).toMatchObject({ credential: 'openai', purpose: 'env', process: { pid: process.pid, uid: process.getuid!() } });
    expect(req.process.cmdline.length).toBeGreaterThan(0);
    laptop!.send({ t: 'lease.grant', id: req.id, leaseId: 'ls_granted0001', scope: 'once', ttlMs: 600_000 });
    const body = (await answer).json() as Record<string, string>;
    expect(body).toMatchObject({ leaseId: 'ls_granted0001', name: 'openai', provider: 'openai', laptop: 'alice-mbp', baseUrl: `${daemon.proxyUrl}/openai`, proxyUrl: daemon.proxyUrl });
    expect(body.token).toMatch(/^tth_[A-Za-z0-9_-]{43}$/);
    // TTL is capped by --max-lease-ttl-ms.
    expect(Date.parse(body.expiresAt as string) - Date.now()).toBeLessThanOrEqual(30_000);

    const status = (await controlCall(daemon, 'GET', 'status')).text;
    expect(status).not.toContain(body.token);
    expect(JSON.parse(status)).toMatchObject({ laptops: [{ name: 'alice-mbp', leases: 1 }], leases: [{ leaseId: 'ls_granted0001', pid: process.pid }] });
  });

  it.each([
    ['denied', 'denied', 403],
    ['timeout', 'approval-timeout', 503],
    ['unknown-credential', 'unknown-credential', 404],
  ] as const)('maps a %s denial to %s', async (reason, code, status) => {
    const { daemon, laptops: [laptop] } = await setup();
    const answer = controlCall(daemon, 'POST', 'lease', { provider: 'openai' });
    const req = await laptop!.next('lease.request');
    laptop!.send({ t: 'lease.deny', id: req.id, reason, message: 'no' });
    const got = await answer;
    expect(got.status).toBe(status);
    expect(got.code()).toBe(code);
  });

  it('gives up after --request-timeout-ms with approval-timeout', async () => {
    const { daemon, laptops: [laptop] } = await setup({ requestTimeoutMs: 200 });
    const got = await controlCall(daemon, 'POST', 'lease', { provider: 'openai' });
    expect(got.status).toBe(503);
    expect(got.code()).toBe('approval-timeout');
    // A grant that comes too late is ended at once so the laptop's view stays true.
    const req = await laptop!.next('lease.request');
    laptop!.send({ t: 'lease.grant', id: req.id, leaseId: 'ls_toolate0001', scope: 'once', ttlMs: 60_000 });
    expect(await laptop!.next('lease.ended')).toMatchObject({ leaseId: 'ls_toolate0001', reason: 'revoked' });
  });

  it('answers laptop-left when the laptop drops while deciding', async () => {
    const { daemon, laptops: [laptop] } = await setup();
    const answer = controlCall(daemon, 'POST', 'lease', { provider: 'openai' });
    await laptop!.next('lease.request');
    laptop!.close();
    expect((await answer).code()).toBe('laptop-left');
  });

  it('chooses the laptop: none, several, by name, unknown name, unknown provider', async () => {
    const started = await scene.start();
    const daemon = started.daemon;
    const code = async (body: object) => (await controlCall(daemon, 'POST', 'lease', body)).code();
    expect(await code({ provider: 'openai' })).toBe('no-laptop');
    const a = await pairedLaptop(daemon, { name: 'alice-mbp', offer: ['openai'] });
    const b = await pairedLaptop(daemon, { name: 'bob-xps', offer: ['anthropic'] });
    scene.laptops.push(a, b);
    const ambiguousAnswer = await controlCall(daemon, 'POST', 'lease', { provider: 'openai' });
    expect(ambiguousAnswer.code()).toBe('ambiguous-laptop');
    // It names the laptops to choose from.
    const ambiguous = ambiguousAnswer.json() as ErrorBody;
    expect(ambiguous.error.message).toContain('alice-mbp');
    expect(ambiguous.error.message).toContain('bob-xps');
    expect(await code({ provider: 'openai', as: 'carol' })).toBe('unknown-laptop');
    const unknownAnswer = await controlCall(daemon, 'POST', 'lease', { provider: 'openai', as: 'bob-xps' });
    expect(unknownAnswer.code()).toBe('unknown-credential');
    // It says what the laptop does offer.
    const unknown = unknownAnswer.json() as ErrorBody;
    expect(unknown.error.message).toContain('anthropic');
    expect(await code({ provider: 'Not A Name' })).toBe('bad-request');
    const stop = autoGrant(b);
    const granted = await leaseToken(daemon, 'anthropic', { as: 'bob-xps' });
    stop();
    expect(granted.token).toMatch(/^tth_/);
  });
});

describe('lease lifetime', () => {
  it('the dead-man timer revokes within 3 × heartbeat: the proxy says "laptop disconnected"', async () => {
    const { daemon, laptops: [laptop] } = await setup({ heartbeatMs: 100 });
    laptop!.startHeartbeat(50);
    autoGrant(laptop!);
    const { token } = await leaseToken(daemon);
    const closed = new Promise<number>((resolve) => daemon.events.once('link-closed', (_l, c) => resolve(c.code)));
    laptop!.stopHeartbeat(); // silence, but the socket stays open
    const t0 = Date.now();
    expect(await closed).toBe(4408);
    expect(Date.now() - t0).toBeLessThan(3 * 100 + 400);
    expect(await proxyWhy(daemon.proxyUrl, token)).toEqual({ status: 401, code: 'lease-ended', message: 'tether: laptop disconnected' });
  });

  it('bye revokes at once and the socket closes 1000', async () => {
    const { daemon, laptops: [laptop] } = await setup();
    autoGrant(laptop!);
    const { token } = await leaseToken(daemon);
    laptop!.send({ t: 'bye', reason: 'lid closed' });
    expect((await laptop!.closed).code).toBe(1000);
    expect(daemon.leases.list()).toHaveLength(0);
    expect(await proxyWhy(daemon.proxyUrl, token)).toEqual({ status: 401, code: 'lease-ended', message: 'tether: laptop disconnected' });
  });

  it('TTL expiry ends a lease and reports lease.ended expired', async () => {
    const { daemon, laptops: [laptop] } = await setup({ maxLeaseTtlMs: 1000 });
    autoGrant(laptop!, 'once', 60_000);
    const { token, leaseId } = await leaseToken(daemon);
    expect(await laptop!.next('lease.ended')).toEqual({ t: 'lease.ended', leaseId, reason: 'expired' });
    expect(await proxyWhy(daemon.proxyUrl, token)).toEqual({ status: 401, code: 'lease-ended', message: 'tether: lease expired' });
  });

  it('renew extends a connection lease (capped); an unknown lease id gets unknown-lease', async () => {
    const { daemon, laptops: [laptop] } = await setup({ maxLeaseTtlMs: 1000 });
    autoGrant(laptop!, 'connection', 1000);
    const { leaseId } = await leaseToken(daemon);
    const before = daemon.leases.list()[0]!.expiresAt;
    await new Promise((r) => setTimeout(r, 300));
    laptop!.send({ t: 'lease.renew', leaseId, ttlMs: 60_000 });
    laptop!.send({ t: 'hb' });
    await laptop!.next('hb'); // the renew before it has been handled
    const after = daemon.leases.list()[0]!.expiresAt;
    expect(after).toBeGreaterThan(before + 200);
    expect(after - Date.now()).toBeLessThanOrEqual(1000);
    laptop!.send({ t: 'lease.renew', leaseId: 'ls_neverexisted', ttlMs: 5000 });
    expect((await laptop!.next('error')).code).toBe('unknown-lease');
  });

  it('lease.revoke ends the named leases (or all) and the proxy says why', async () => {
    const { daemon, laptops: [laptop] } = await setup();
    autoGrant(laptop!);
    const one = await leaseToken(daemon);
    const two = await leaseToken(daemon);
    laptop!.send({ t: 'lease.revoke', leaseIds: [one.leaseId], reason: 'user' });
    expect(await laptop!.next('lease.ended')).toMatchObject({ leaseId: one.leaseId, reason: 'revoked' });
    expect(daemon.leases.list().map((l) => l.leaseId)).toEqual([two.leaseId]);
    expect(await proxyWhy(daemon.proxyUrl, one.token)).toEqual({ status: 401, code: 'lease-ended', message: 'tether: lease revoked on the laptop' });
    laptop!.send({ t: 'lease.revoke', reason: 'lock screen' });
    await laptop!.next('lease.ended', (m) => m.leaseId === two.leaseId);
    expect(daemon.leases.list()).toHaveLength(0);
  });

  it('release ends a lease with reason released; an unknown token says to get a new one', async () => {
    const { daemon, laptops: [laptop] } = await setup();
    autoGrant(laptop!);
    const { token, leaseId } = await leaseToken(daemon);
    expect((await controlCall(daemon, 'POST', 'release', { token })).json()).toEqual({ released: true });
    expect(await laptop!.next('lease.ended')).toMatchObject({ leaseId, reason: 'released' });
    expect(await proxyWhy(daemon.proxyUrl, token)).toEqual({ status: 401, code: 'lease-ended', message: 'tether: lease released' });
    const unknown = await proxyWhy(daemon.proxyUrl, `tth_${'x'.repeat(43)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.code).toBe('unknown-lease');
    // It says what to do.
    expect(unknown.message).toMatch(/unknown lease token.*tether token/);
  });

  it('daemon shutdown sends lease.ended daemon-stopping and bye', async () => {
    const { daemon, laptops: [laptop] } = await setup();
    autoGrant(laptop!);
    const { leaseId } = await leaseToken(daemon);
    await daemon.close();
    expect(await laptop!.next('lease.ended')).toMatchObject({ leaseId, reason: 'daemon-stopping' });
    expect((await laptop!.next('bye')).t).toBe('bye');
    expect((await laptop!.closed).code).toBe(1000);
  });
});
