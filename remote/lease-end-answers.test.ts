// A request under a lease that ends while it waits for the laptop is a 401 saying why, not a 502.
import { describe, expect, it } from 'vitest';
import { UNKNOWN_LEASE_ABORT } from '../protocol/index.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, leaseToken, pairedLaptop, request } from './testing/harness.js';

const scene = daemonPerTest();

async function setup() {
  const { daemon } = await scene.start();
  const laptop = await pairedLaptop(daemon, { offer: ['openai'] });
  scene.laptops.push(laptop);
  autoGrant(laptop);
  const { token, leaseId } = await leaseToken(daemon, 'openai');
  const call = () => request(`${daemon.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
  return { laptop, leaseId, call };
}

describe('answers when a lease ends under a request', () => {
  it('the laptop no longer knows the lease: 401, and the lease ends here too', async () => {
    const { laptop, call } = await setup();
    laptop.onRelayOpen = (s) => laptop.send({ t: 'relay.abort', sid: s.sid, reason: UNKNOWN_LEASE_ABORT });
    const first = await call();
    expect(first.status, first.text).toBe(401);
    expect(first.code()).toBe('lease-ended');
    // Why it ended is what the user reads: the code is the same for every ending.
    expect(first.text).toMatch(/lease revoked on the laptop/);
    const again = await call();
    expect(again.status).toBe(401);
    expect(again.code()).toBe('lease-ended');
  });

  it('a revoke crosses the request: 401 with the revoke as why', async () => {
    const { laptop, leaseId, call } = await setup();
    laptop.onRelayOpen = (s) => {
      laptop.send({ t: 'lease.revoke', leaseIds: [leaseId], reason: 'tether revoke' });
      laptop.send({ t: 'relay.abort', sid: s.sid, reason: 'upstream call dropped' });
    };
    const res = await call();
    expect(res.status, res.text).toBe(401);
    expect(res.code()).toBe('lease-ended');
    expect(res.text).toMatch(/revoked/);
  });

  it('the laptop disconnects before its answer: 401 laptop disconnected', async () => {
    const { laptop, call } = await setup();
    laptop.onRelayOpen = () => laptop.close();
    const res = await call();
    expect(res.status, res.text).toBe(401);
    expect(res.code()).toBe('lease-ended');
    expect(res.text).toMatch(/laptop disconnected/);
  });

  it('the lease lives and the laptop gives up for another reason: 502', async () => {
    const { laptop, call } = await setup();
    laptop.onRelayOpen = (s) => laptop.send({ t: 'relay.abort', sid: s.sid, reason: 'cannot reach the provider' });
    const res = await call();
    expect(res.status).toBe(502);
    expect(res.code()).toBe('relay-failed');
    expect(res.text).toMatch(/cannot reach the provider/);
  });
});

describe('relay heads', () => {
  it.each([101, 102, 103, 199])('refuses an informational status %i as a protocol error: 502 to the client', async (status) => {
    const { laptop, call } = await setup();
    laptop.onRelayOpen = (s) => s.head(status, [['upgrade', 'websocket'], ['connection', 'upgrade']]);
    const error = laptop.next('error');
    const res = await call();
    expect(res.status).toBe(502);
    expect(res.code()).toBe('relay-failed');
    expect((await error).code).toBe('bad-message');
  });
});
