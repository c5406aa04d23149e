// Every refusal the daemon's proxy and control API give without a provider, each provoked for
// real: its status is the table's, its code is in the header and the body, and the body has the
// shape its caller reads (the provider's error on the proxy, `{error: {code, message}}` otherwise).
import { describe, expect, it } from 'vitest';
import { DAEMON_CONTROL_VERSION } from '../protocol/daemon-control.js';
import { Refusals, TETHER_ERROR_HEADER, type RefusalCode } from '../protocol/refusals.js';
import type { Daemon } from './daemon.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, controlCall, leaseToken, pairedLaptop, portOf, rawRequest, request } from './testing/harness.js';

const scene = daemonPerTest();
const V2 = String(DAEMON_CONTROL_VERSION);

type Shape = 'openai' | 'anthropic' | 'gemini' | 'control';
type Laptops = 0 | 1 | 2;

interface Answer {
  status: number;
  header: string | undefined;
  body: unknown;
}

interface Case {
  code: RefusalCode;
  shape: Shape;
  laptops: Laptops;
  provoke: (daemon: Daemon) => Promise<Answer>;
  /** What the sentence must still say, where that is the point for the user. */
  says?: RegExp;
}

async function http(url: string, opts: Parameters<typeof request>[1] = {}): Promise<Answer> {
  const a = await request(url, opts);
  return { status: a.status, header: a.headers[TETHER_ERROR_HEADER] as string | undefined, body: a.json() };
}

async function raw(daemon: Daemon, headers: string): Promise<Answer> {
  const a = await rawRequest(portOf(daemon.proxyUrl), `GET /openai/v1/models HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);
  return { status: a.status, header: a.headers[TETHER_ERROR_HEADER], body: JSON.parse(a.body) };
}

async function control(daemon: Daemon, method: 'GET' | 'POST', route: string, body?: object, version = V2): Promise<Answer> {
  const a = await controlCall(daemon, method, route, body, version);
  return { status: a.status, header: a.headers[TETHER_ERROR_HEADER] as string | undefined, body: a.json() };
}

const CASES: [string, Case][] = [
  // The proxy: answered in the shape of the provider whose path was called.
  ['no token', { code: 'no-lease-token', shape: 'anthropic', laptops: 1, provoke: (d) => http(`${d.proxyUrl}/anthropic/v1/messages`, { method: 'POST', body: '{}' }), says: /tether token anthropic/ }],
  ['an unknown token', { code: 'unknown-lease', shape: 'gemini', laptops: 1, provoke: (d) => http(`${d.proxyUrl}/gemini/v1beta/models`, { headers: { 'x-goog-api-key': 'not-a-lease' } }) }],
  [
    'a lease that ended',
    {
      code: 'lease-ended',
      shape: 'openai',
      laptops: 1,
      provoke: async (d) => {
        const { token } = await leaseToken(d, 'openai');
        expect((await control(d, 'POST', 'release', { token })).body).toEqual({ released: true });
        return http(`${d.proxyUrl}/openai/v1/models`, { headers: { authorization: `Bearer ${token}` } });
      },
    },
  ],
  [
    'a lease for another credential',
    {
      code: 'wrong-credential',
      shape: 'anthropic',
      laptops: 1,
      provoke: async (d) => {
        const { token } = await leaseToken(d, 'openai');
        return http(`${d.proxyUrl}/anthropic/v1/messages`, { method: 'POST', headers: { 'x-api-key': token }, body: '{}' });
      },
      says: /tether token anthropic/,
    },
  ],
  ['a path that names no credential', { code: 'unknown-path', shape: 'openai', laptops: 1, provoke: (d) => http(`${d.proxyUrl}/`) }],
  ['an unknown credential', { code: 'unknown-credential', shape: 'openai', laptops: 1, provoke: (d) => http(`${d.proxyUrl}/nothing-here/v1/models`), says: /"nothing-here"/ }],
  [
    'a method that is not relayed',
    {
      code: 'method-not-relayed',
      shape: 'openai',
      laptops: 1,
      provoke: async (d) => {
        const { token } = await leaseToken(d, 'openai');
        return http(`${d.proxyUrl}/openai/v1/models`, { method: 'TRACE', headers: { authorization: `Bearer ${token}` } });
      },
    },
  ],
  // Before any routing, on either side of the port.
  ['a foreign Host', { code: 'not-loopback', shape: 'control', laptops: 1, provoke: (d) => raw(d, 'Host: evil.example\r\n') }],
  ['an Origin', { code: 'browser-request', shape: 'control', laptops: 1, provoke: (d) => raw(d, 'Host: 127.0.0.1\r\nOrigin: http://evil.example\r\n') }],
  ['two Host headers', { code: 'malformed-request', shape: 'control', laptops: 1, provoke: (d) => raw(d, 'Host: 127.0.0.1\r\nHost: evil.example\r\n') }],
  // The control API.
  ['an unknown control call', { code: 'unknown-call', shape: 'control', laptops: 1, provoke: (d) => control(d, 'GET', 'no-such-call') }],
  ['a body the call does not take', { code: 'bad-request', shape: 'control', laptops: 1, provoke: (d) => control(d, 'POST', 'lease', { credential: 5 }) }],
  ['another control version', { code: 'version-mismatch', shape: 'control', laptops: 1, provoke: (d) => control(d, 'GET', 'status', undefined, '99') }],
  ['no laptop', { code: 'no-laptop', shape: 'control', laptops: 0, provoke: (d) => control(d, 'POST', 'lease', { credential: 'openai', purpose: 'token' }), says: /tether agent --connect/ }],
  ['two laptops and no --as', { code: 'ambiguous-laptop', shape: 'control', laptops: 2, provoke: (d) => control(d, 'POST', 'lease', { credential: 'openai', purpose: 'token' }), says: /alice-mbp, bob-mbp/ }],
  ['an unknown laptop', { code: 'unknown-laptop', shape: 'control', laptops: 1, provoke: (d) => control(d, 'POST', 'lease', { credential: 'openai', purpose: 'token', as: 'gamma' }), says: /"gamma"/ }],
  [
    'a credential the laptop does not lend',
    { code: 'unknown-credential', shape: 'control', laptops: 1, provoke: (d) => control(d, 'POST', 'lease', { credential: 'mistral', purpose: 'token' }), says: /alice-mbp does not lend "mistral" \(it offers: openai, anthropic\)/ },
  ],
];

/** The body each caller reads: the provider's documented error, with our code beside it; or the control API's. */
function bodyOf(shape: Shape, code: RefusalCode): unknown {
  const { status, kind } = Refusals[code];
  const message = expect.stringMatching(/^tether: \S/);
  switch (shape) {
    case 'openai':
      return { error: { message, type: expect.stringMatching(/_error$/), code: kind === 'authentication' ? 'invalid_api_key' : null, param: null, tether_code: code } };
    case 'anthropic':
      return { type: 'error', error: { type: expect.stringMatching(/_error$/), message, tether_code: code } };
    case 'gemini':
      return { error: { code: status, message, status: expect.stringMatching(/^[A-Z_]+$/), tether_code: code } };
    case 'control':
      return { error: { code, message: expect.stringMatching(/\S/) } };
  }
}

function messageOf(body: unknown): string {
  return (body as { error: { message: string } }).error.message;
}

async function daemonWith(laptops: Laptops): Promise<Daemon> {
  const { daemon } = await scene.start();
  for (const name of ['alice-mbp', 'bob-mbp'].slice(0, laptops)) {
    const laptop = await pairedLaptop(daemon, { name, offer: ['openai', 'anthropic'] });
    scene.laptops.push(laptop);
    autoGrant(laptop);
  }
  return daemon;
}

describe('every refusal of the proxy and the control API', () => {
  it.each(CASES)('%s: its status, its code in the header and the body, in its caller\'s shape', async (_what, c) => {
    const daemon = await daemonWith(c.laptops);
    const answer = await c.provoke(daemon);
    expect(answer.status).toBe(Refusals[c.code].status);
    expect(answer.header).toBe(c.code);
    expect(answer.body).toEqual(bodyOf(c.shape, c.code));
    if (c.says) expect(messageOf(answer.body)).toMatch(c.says);
  });

});
