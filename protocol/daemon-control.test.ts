import { describe, expect, it } from 'vitest';
import { DAEMON_CONTROL_ROUTES, LEASE_ANSWER_FIELDS, leaseCallFromV1, leaseCallToV1, parseLeaseAnswer } from './daemon-control.js';
import { DaemonControlSchemas, LeaseAnswerSchema, LeaseCall } from './daemon-control-schemas.js';

const answer = {
  token: 'tth_abc',
  leaseId: 'ls_abcdefghij',
  name: 'openai',
  provider: 'openai',
  laptop: 'alice-mbp',
  scope: 'once',
  expiresAt: '2026-12-07T10:00:00.000Z',
  baseUrl: 'http://127.0.0.1:9/openai',
  proxyUrl: 'http://127.0.0.1:9',
};

/** Values worth trying in any field: wrong types, empty, huge. */
const anyField: unknown[] = [undefined, null, true, 0, -1, 1.5, '', 'x', [], {}, ['x'], Number.NaN, 'é'.repeat(300)];

function zodAnswer(value: unknown): unknown {
  const parsed = LeaseAnswerSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

describe('the daemon control contract', () => {
  it('checks a lease answer by hand exactly as its schema does (the token path loads no zod)', () => {
    const cases: unknown[] = [answer, null, undefined, 'tth_x', 7, [], [answer], { ...answer, extra: 'dropped', __proto__: { token: 'x' } }];
    for (const field of LEASE_ANSWER_FIELDS) {
      for (const v of anyField) cases.push({ ...answer, [field]: v });
      const { [field]: _gone, ...missing } = answer;
      cases.push(missing);
    }
    cases.push(JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(answer).slice(1)}`));
    for (const value of cases) expect(parseLeaseAnswer(value), JSON.stringify(value)).toEqual(zodAnswer(value));
    // Both name the same fields.
    expect([...LEASE_ANSWER_FIELDS].sort()).toEqual(Object.keys(LeaseAnswerSchema.shape).sort());
  });

  it('has a route and schemas for every call, and no route twice', () => {
    expect(Object.keys(DAEMON_CONTROL_ROUTES).sort()).toEqual(Object.keys(DaemonControlSchemas).sort());
    const routes = Object.values(DAEMON_CONTROL_ROUTES).map((r) => `${r.method} ${r.path}`);
    expect(new Set(routes).size).toBe(routes.length);
    for (const r of routes) expect(r).toMatch(/^(GET|POST) \/_tether\/v1\/[a-z-]+$/);
  });

  it('reads a v1 lease body (`provider`) as v2 and writes one for a v1 daemon', () => {
    const v1 = { provider: 'openai', purpose: 'exec', handle: true };
    const v2 = leaseCallFromV1(v1);
    expect(LeaseCall.parse(v2)).toEqual({ credential: 'openai', purpose: 'exec', handle: true });
    expect(leaseCallToV1(v2)).toEqual(v1);
    // v2 is strict: the v1 name, or anything else unknown, is refused rather than ignored.
    expect(LeaseCall.safeParse({ credential: 'openai', provider: 'openai' }).success).toBe(false);
    expect(LeaseCall.safeParse({ credential: 'Not A Name' }).success).toBe(false);
    expect(LeaseCall.parse({ credential: 'openai' }).purpose).toBe('token');
  });
});
