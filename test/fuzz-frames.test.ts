// The fuzzer's generator: a seed replays exactly, and its mix holds every kind of frame the e2e fuzzing counts on.
import { describe, expect, it } from 'vitest';
import { fuzzFrame, type FrameContext, type Sender } from './support/fuzz/frames.js';
import { expectationOf } from './support/fuzz/oracle.js';
import { Prng, runSeed } from './support/fuzz/prng.js';

const frames = (seed: number, sender: Sender, n: number, ctx: FrameContext = { sids: [7], leaseIds: ['ls_AAAAAAAAAAAA'] }) => {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => fuzzFrame(rng, sender, { ...ctx, sids: [...ctx.sids], leaseIds: [...ctx.leaseIds] }));
};
const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data) : Buffer.from(data));

describe('fuzz frames', () => {
  it('the same seed gives the same frames, another seed others', () => {
    const a = frames(12345, 'laptop', 500).map((f) => bytesOf(f.data).toString('base64'));
    const b = frames(12345, 'laptop', 500).map((f) => bytesOf(f.data).toString('base64'));
    const c = frames(12346, 'laptop', 500).map((f) => bytesOf(f.data).toString('base64'));
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it.each(['laptop', 'daemon'] as const)('a %s sends frames that decode, frames that do not, binary ones and a few that end the link', (sender) => {
    const mix = frames(1, sender, 5000);
    const expected = mix.map(expectationOf);
    const share = (n: number) => n / mix.length;
    expect(share(expected.filter((e) => e.decodeError).length)).toBeGreaterThan(0.5);
    expect(share(expected.filter((e) => !e.decodeError && !e.closes).length)).toBeGreaterThan(0.05);
    expect(share(mix.filter((f) => typeof f.data !== 'string' && !f.text).length)).toBeGreaterThan(0.15);
    const enders = share(expected.filter((e) => e.closes).length);
    expect(enders).toBeGreaterThan(0.002);
    expect(enders).toBeLessThan(0.03);
    expect(mix.some((f) => typeof f.data === 'string' && f.data.includes('"__proto__"'))).toBe(true);
  });

  it('keepLink leaves out every frame that would end the link', () => {
    const mix = frames(2, 'daemon', 5000, { sids: [1], leaseIds: [], keepLink: true });
    expect(mix.map(expectationOf).filter((e) => e.closes)).toEqual([]);
  });

  it('FUZZ_SEED is read as an unsigned 32-bit integer, and nothing else', () => {
    expect(runSeed('42')).toBe(42);
    expect(() => runSeed('4294967296')).toThrow(/FUZZ_SEED/);
    expect(() => runSeed('abc')).toThrow(/FUZZ_SEED/);
    expect(runSeed('')).toBeGreaterThanOrEqual(0);
  });
});
