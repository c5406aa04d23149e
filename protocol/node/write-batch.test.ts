import { describe, expect, it } from 'vitest';
import { WriteBatch, type BatchedSocket } from './write-batch.js';

/** A ws whose transport counts corks and records what reached it, and when. */
function fakeWs() {
  const wire: string[] = [];
  let corked = 0;
  const held: string[] = [];
  const socket = {
    cork: () => void corked++,
    uncork: () => {
      if (corked > 0) corked--;
      if (corked === 0) wire.push(...held.splice(0));
    },
  };
  const ws = { _socket: socket, send: (d: string) => (corked ? held : wire).push(d) } as unknown as BatchedSocket;
  return { ws, wire, corked: () => corked };
}

describe('WriteBatch', () => {
  it('holds one turn\'s frames and sends them together after the turn', async () => {
    const f = fakeWs();
    const batch = new WriteBatch(f.ws);
    batch.send('a');
    batch.send('b');
    expect(f.wire).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(f.wire).toEqual(['a', 'b']);
  });

  it('flush() sends what is held before the turn ends, and the turn\'s end leaves a later batch alone', async () => {
    const f = fakeWs();
    const batch = new WriteBatch(f.ws);
    batch.send('lease.revoke');
    batch.send('bye');
    batch.flush();
    expect(f.wire).toEqual(['lease.revoke', 'bye']);
    batch.send('next');
    expect(f.corked()).toBe(1);
    // 'next' is a batch of its own: it leaves at the end of this turn, not with the flush.
    await new Promise((r) => setImmediate(r));
    expect(f.wire).toEqual(['lease.revoke', 'bye', 'next']);
    expect(f.corked()).toBe(0);
  });
});
