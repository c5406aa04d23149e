import { describe, expect, it } from 'vitest';
import { AgentError } from './errors.js';
import { Backoff, Reconnector } from './reconnect.js';

describe('Backoff', () => {
  it('doubles up to the cap, with jitter between half and all of it', () => {
    const low = new Backoff({ baseMs: 100, capMs: 1000, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ baseMs: 100, capMs: 1000, random: () => 1 });
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1000]);
    high.reset();
    expect(high.next()).toBe(100);
  });
});

describe('Reconnector', () => {
  it('retries until an attempt succeeds, then waits for the next loss', async () => {
    let calls = 0;
    const r = new Reconnector(async () => {
      calls += 1;
      if (calls < 3) throw new AgentError('connect-failed', 'network down');
    }, new Backoff({ baseMs: 5, capMs: 10 }));
    r.linkClosed();
    expect(r.describe()).toMatch(/reconnecting: attempt 1 in/);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => r.state === 'CONNECTED' && (clearInterval(poll), resolve()), 2);
    });
    expect(calls).toBe(3);
    r.linkClosed();
    expect(r.state).toBe('WAITING');
    r.stop();
  });

  it('gives up on a refusal a retry cannot fix', async () => {
    let gaveUp = '';
    const r = new Reconnector(async () => {
      throw new AgentError('host-key-changed', 'HOST KEY CHANGED');
    }, new Backoff({ baseMs: 1, capMs: 1 }), (m) => (gaveUp = m));
    r.linkClosed();
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => r.state === 'STOPPED' && (clearInterval(poll), resolve()), 2);
    });
    expect(gaveUp).toBe('HOST KEY CHANGED');
  });
});
