import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { isProviderName, ProviderName } from './encoding.js';
import { ProtocolError } from './errors.js';
import { decodeHotMessage } from './hot-messages.js';
import { decodeMessage } from './messages.js';
import { RelayAbort, RelayHead, RelayOpen } from './relay.js';

const schemas: Record<string, z.ZodType> = { 'relay.open': RelayOpen, 'relay.head': RelayHead, 'relay.abort': RelayAbort };

const valid: Record<string, Record<string, unknown>> = {
  'relay.open': {
    t: 'relay.open',
    sid: 7,
    leaseId: 'ls_abcdefghijklmnop',
    method: 'POST',
    path: '/v1/chat/completions?x=1',
    headers: [
      ['content-type', 'application/json'],
      ['content-length', '42'],
    ],
  },
  'relay.head': { t: 'relay.head', sid: 7, status: 200, headers: [['content-type', 'text/event-stream']] },
  'relay.abort': { t: 'relay.abort', sid: 7, reason: 'the client closed the connection' },
};

/** Values worth trying in any field: wrong types, empty, huge, odd numbers. */
const anyField: unknown[] = [undefined, null, true, 0, -1, 1.5, '', 'x', '7', [], {}, [[]], Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 'é'.repeat(300)];

const fieldValues: Record<string, unknown[]> = {
  t: ['relay.open', 'relay.head', 'relay.abort', 'hb'],
  sid: [1, 2, 0xffffffff, 0x100000000, 0, -0, 7.000001, 1e300, '1'],
  leaseId: [
    'ls_' + 'a'.repeat(8),
    'ls_' + 'a'.repeat(7),
    'ls_' + 'a'.repeat(64),
    'ls_' + 'a'.repeat(65),
    'ls_abc+defghij',
    'ls_abcdefgh\n',
    'LS_abcdefghij',
    ' ls_abcdefghij',
    'ls_AZaz09_-AZaz09',
  ],
  method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'post', 'TRACE', 'CONNECT', 'constructor', '__proto__'],
  path: ['/', '/x', 'x', '', '//a', '/' + 'a'.repeat(8191), '/' + 'a'.repeat(8192), '/😀'.repeat(2048), '/😀'.repeat(2731), ' /a'],
  status: [100, 101, 200, 599, 99, 600, 200.5, '200', -200],
  reason: ['', 'r'.repeat(300), 'r'.repeat(301), '😀'.repeat(150), '😀'.repeat(151), 'line\nbreak'],
  headers: [
    [],
    [['a', '']],
    [['', 'v']],
    [['a']],
    [['a', 'b', 'c']],
    [['a', 1]],
    [[1, 'b']],
    [['a', null]],
    [null],
    ['a'],
    [{ 0: 'a', 1: 'b' }],
    [['n'.repeat(256), 'v']],
    [['n'.repeat(257), 'v']],
    [['😀'.repeat(128), 'v']],
    [['😀'.repeat(129), 'v']],
    [['a', 'v'.repeat(16 * 1024)]],
    [['a', 'v'.repeat(16 * 1024 + 1)]],
    Array.from({ length: 256 }, (_, i) => [`h${i}`, 'v']),
    Array.from({ length: 257 }, (_, i) => [`h${i}`, 'v']),
    [['a', 'b'], ['a', 'b']],
    [['content-type', 'text/plain'], 'oops'],
    { 0: ['a', 'b'], length: 1 },
  ],
};

/** Every message with one field replaced (or removed), plus extra keys, through JSON like the wire. */
function corpus(): { tag: string; raw: Record<string, unknown>; label: string }[] {
  const out: { tag: string; raw: Record<string, unknown>; label: string }[] = [];
  for (const [tag, base] of Object.entries(valid)) {
    const fields = [...Object.keys(base), 'extra', 'v', '__proto__'];
    for (const field of fields) {
      for (const value of [...(Object.hasOwn(fieldValues, field) ? fieldValues[field]! : []), ...anyField]) {
        const text = JSON.stringify({ ...base, [field]: value });
        const raw = JSON.parse(text) as Record<string, unknown>;
        if (value === undefined) delete raw[field];
        out.push({ tag, raw, label: `${tag} ${field}=${JSON.stringify(value)?.slice(0, 40)}` });
      }
    }
    const withProto = JSON.parse(JSON.stringify(base).replace(/^\{/, '{"__proto__":{"polluted":1},')) as Record<string, unknown>;
    out.push({ tag, raw: withProto, label: `${tag} with an own __proto__ key` });
  }
  return out;
}

describe('hand-written relay message checks', () => {
  const cases = corpus();

  it('accept only what the zod schemas accept, return what zod returns, and leave zod only the rare cases', () => {
    let accepted = 0;
    const leftToZod: string[] = [];
    for (const { tag, raw, label } of cases) {
      const fast = decodeHotMessage(tag, raw);
      const slow = schemas[tag]!.safeParse(raw);
      if (fast) {
        expect({ label, zodAccepts: slow.success }).toEqual({ label, zodAccepts: true });
        expect(fast, label).toStrictEqual(slow.data);
        accepted += 1;
      } else if (slow.success) leftToZod.push(label);
    }
    // The only valid messages the fast path passes on are those with a string over its limit
    // in UTF-16 units but not in code points (zod's measure): zod accepts them itself.
    expect(leftToZod.length).toBeGreaterThan(0);
    for (const label of leftToZod) expect(label).toContain('😀');
    // The corpus holds both kinds in numbers, so the comparison above means something.
    expect(accepted).toBeGreaterThan(60);
    expect(cases.length - accepted - leftToZod.length).toBeGreaterThan(150);
  });

  it('make decodeMessage answer every input as zod alone would', () => {
    for (const { tag, raw, label } of cases) {
      if (raw.v !== undefined && raw.v !== 1) continue; // refused for its version before any schema
      const slow = schemas[tag]!.safeParse(raw);
      const text = JSON.stringify(raw);
      if (slow.success) {
        expect(decodeMessage(text), label).toStrictEqual(slow.data);
        continue;
      }
      let err: unknown;
      try {
        decodeMessage(text);
      } catch (e) {
        err = e;
      }
      if (raw.t !== tag) continue; // another message type's rules apply
      expect(err, label).toBeInstanceOf(ProtocolError);
      const issue = slow.error.issues[0]!;
      const where = issue.path.length ? issue.path.join('.') : 'message';
      expect({ label, code: (err as ProtocolError).code, message: (err as ProtocolError).message }).toEqual({ label, code: 'bad-message', message: `invalid ${tag}: ${where}: ${issue.message}` });
    }
  });

  it('are what decodeMessage uses for valid relay messages', () => {
    for (const [tag, base] of Object.entries(valid)) {
      expect(decodeHotMessage(tag, base)).toStrictEqual(base);
      expect(decodeMessage(JSON.stringify({ ...base, extra: 1 }))).toStrictEqual(base);
    }
  });
});

describe('isProviderName', () => {
  it('answers as ProviderName.safeParse does', () => {
    const names = ['openai', 'a', '0', 'my-gw_2', '-x', '_x', 'A', 'openAI', 'a b', 'a/b', 'a.b', '', 'é', 'a\n', '\na', 'a'.repeat(48), 'a'.repeat(49), '😀', 'a😀', 'constructor', '__proto__', 'x'.repeat(1000)];
    let valid = 0;
    for (const name of names) {
      const zod = ProviderName.safeParse(name).success;
      expect({ name, ok: isProviderName(name) }).toEqual({ name, ok: zod });
      if (zod) valid += 1;
    }
    expect(valid).toBeGreaterThan(4);
    expect(names.length - valid).toBeGreaterThan(10);
  });
});
