import { describe, expect, it } from 'vitest';
import { PAIR_CODE_ALPHABET, PAIR_CODE_LENGTH } from '../protocol/index.js';
import { pairMac } from '../protocol/node/crypto.js';
import { leaseTokenFrom, relayRequestHeaders, relayResponseHeaders } from './http-headers.js';
import { LeaseTable, UNKNOWN_TOKEN_WHY } from './lease-table.js';
import { PairCodes } from './pair-codes.js';
import { PenaltyBox } from './penalty.js';

describe('PairCodes', () => {
  it('makes 13-symbol codes, matches each once, and forgets expired ones', () => {
    let now = 0;
    const codes = new PairCodes({ ttlMs: 1000, now: () => now });
    const { code } = codes.issue();
    expect(code).toHaveLength(PAIR_CODE_LENGTH);
    expect([...code].every((c) => PAIR_CODE_ALPHABET.includes(c))).toBe(true);
    const macOf = (c: string) => pairMac(c, 'transcript');
    expect(codes.match(macOf('WRONGCODE0000'), macOf)).toBeUndefined();
    expect(codes.match(macOf(code), macOf)).toBe(code);
    expect(codes.match(macOf(code), macOf)).toBeUndefined();
    const later = codes.issue().code;
    now = 1000;
    expect(codes.match(macOf(later), macOf)).toBeUndefined();
  });
});

describe('PenaltyBox', () => {
  it('delays the next failure 250 ms doubling to 4 s and bans network sources after 5', () => {
    let now = 0;
    const box = new PenaltyBox({ now: () => now });
    const delays = Array.from({ length: 7 }, () => box.failure('10.0.0.1'));
    expect(delays).toEqual([0, 250, 500, 1000, 2000, 4000, 4000]);
    expect(box.isBanned('10.0.0.1')).toBe(true);
    now += 10 * 60 * 1000 + 1;
    expect(box.isBanned('10.0.0.1')).toBe(false);
    for (let i = 0; i < 9; i++) box.failure('unix');
    expect(box.isBanned('unix')).toBe(false);
    box.success('unix');
    expect(box.failure('unix')).toBe(0);
  });
});

describe('LeaseTable', () => {
  const fields = { leaseId: 'ls_abcdefgh', linkId: 'lk_1', laptop: 'lap', name: 'openai', provider: 'openai', scope: 'connection' as const, pid: 1 };

  it('remembers why an ended token fails, by hash and within bounds', () => {
    const table = new LeaseTable({ endedMemory: 2 });
    const ended: string[] = [];
    table.onEnded = (_l, reason) => ended.push(reason);
    const a = table.add({ ...fields, expiresAt: Date.now() + 60_000 });
    expect(a.token).toMatch(/^tth_[A-Za-z0-9_-]{43}$/);
    expect(table.lookup(a.token).state).toBe('live');
    table.endForLink('lk_1', 'disconnected');
    expect(table.lookup(a.token)).toMatchObject({ state: 'ended', why: 'laptop disconnected' });
    expect(ended).toEqual(['disconnected']);
    const b = table.add({ ...fields, leaseId: 'ls_bbbbbbbb', expiresAt: Date.now() + 60_000 });
    const c = table.add({ ...fields, leaseId: 'ls_cccccccc', expiresAt: Date.now() + 60_000 });
    table.release(b.token);
    table.release(c.token);
    // Bounded: the oldest memory (a) is gone, so it reads as unknown now.
    expect(table.lookup(a.token)).toEqual({ state: 'unknown', why: UNKNOWN_TOKEN_WHY });
    expect(table.lookup(c.token)).toMatchObject({ why: 'lease released' });
    expect(JSON.stringify([...(table as unknown as { ended: Map<string, unknown> }).ended])).not.toContain(c.token);
  });

  it('expires by the clock even before its timer fires', () => {
    let now = 1000;
    const table = new LeaseTable({ now: () => now });
    const lease = table.add({ ...fields, expiresAt: 2000 });
    now = 2000;
    expect(table.lookup(lease.token)).toMatchObject({ state: 'ended', why: 'lease expired' });
  });
});

describe('header handling', () => {
  it('strips key, hop-by-hop and Connection-named headers, and keeps the rest in order', () => {
    const raw = ['Host', 'x', 'Authorization', 'Bearer t', 'Content-Type', 'a/b', 'Connection', 'keep-alive, X-Foo', 'X-Foo', '1', 'Content-Length', '3', 'Transfer-Encoding', 'chunked', 'OpenAI-Beta', 'v2'];
    expect(relayRequestHeaders(raw)).toEqual([['Content-Type', 'a/b'], ['Content-Length', '3'], ['OpenAI-Beta', 'v2']]);
    expect(relayResponseHeaders([['content-type', 'x'], ['transfer-encoding', 'chunked'], ['bad name', 'v'], ['set-cookie', 'a'], ['set-cookie', 'b']])).toEqual([
      'content-type', 'x', 'set-cookie', 'a', 'set-cookie', 'b',
    ]);
  });

  it('finds the lease token in any key header, preferring one shaped like a lease', () => {
    const token = 'tth_' + 'a'.repeat(43);
    expect(leaseTokenFrom({ authorization: `bearer ${token}` })).toBe(token);
    expect(leaseTokenFrom({ 'x-api-key': 'placeholder', 'api-key': token })).toBe(token);
    expect(leaseTokenFrom({ authorization: 'Basic abc' })).toBeUndefined();
    expect(leaseTokenFrom({})).toBeUndefined();
  });
});
