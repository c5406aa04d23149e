// The proxy answers only loopback tools: no DNS rebinding, no browser pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { parseRawAnswer, type RawAnswer } from '../remote/testing/raw-answer.js';
import { retire } from './support/retire.js';
import { World } from './support/world.js';

let world: World;
let token: string;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  token = (await world.token('openai')).stdout.trim();
});

afterAll(() => retire(world));

/** A raw HTTP/1.1 request, so the test controls every header byte (fetch would fix Host up). */
function raw(headers: string[]): Promise<RawAnswer> {
  const { port } = new URL(world.state.proxyUrl);
  const body = JSON.stringify({ model: 'mock-1', messages: [] });
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('end', () => resolve(parseRawAnswer(text)));
    // write, not end: a half-closed socket reads as a client that went away.
    socket.write(
      [`POST /openai/v1/chat/completions HTTP/1.1`, ...headers, `Authorization: Bearer ${token}`, 'Content-Type: application/json',
        `Content-Length: ${body.length}`, 'Connection: close', '', body].join('\r\n'),
    );
  });
}

describe('proxy guards', () => {
  it('serves a loopback Host', async () => {
    const { port } = new URL(world.state.proxyUrl);
    expect((await raw([`Host: 127.0.0.1:${port}`])).status).toBe(200);
    expect((await raw([`Host: localhost:${port}`])).status).toBe(200);
  });

  it.each([
    ['a foreign Host', ['Host: evil.example'], 'not-loopback'],
    ['a rebinding Host on our port', ['Host: evil.example:80'], 'not-loopback'],
    ['an empty Host', ['Host: '], 'not-loopback'],
    ['an Origin', ['Host: 127.0.0.1', 'Origin: https://evil.example'], 'browser-request'],
    ['a Referer', ['Host: 127.0.0.1', 'Referer: https://evil.example/page'], 'browser-request'],
  ])('refuses %s', async (_name, headers, code) => {
    const before = world.mock.requests.length;
    const res = await raw(headers);
    expect(res.status).toBe(403);
    expect(res.headers['x-tether-error']).toBe(code);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code } });
    expect(world.mock.requests.length).toBe(before);
  });

  it.each([
    ['cross-site', 403],
    ['same-site', 403],
  ])('refuses a browser request with Sec-Fetch-Site: %s (no Origin, no Referer)', async (site, status) => {
    const before = world.mock.requests.length;
    const res = await raw(['Host: 127.0.0.1', `Sec-Fetch-Site: ${site}`, 'Sec-Fetch-Mode: no-cors']);
    expect(res.status).toBe(status);
    expect(res.headers['x-tether-error']).toBe('browser-request');
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'browser-request', message: expect.stringContaining('Sec-Fetch-Site') } });
    expect(world.mock.requests.length).toBe(before);
  });

  it('serves Sec-Fetch-Site: none and same-origin (a person typing the URL, our own page)', async () => {
    expect((await raw(['Host: 127.0.0.1', 'Sec-Fetch-Site: none'])).status).toBe(200);
    expect((await raw(['Host: 127.0.0.1', 'Sec-Fetch-Site: same-origin'])).status).toBe(200);
  });

  it.each([
    ['loopback first', ['Host: 127.0.0.1', 'Host: evil.example']],
    ['foreign first', ['Host: evil.example', 'Host: 127.0.0.1']],
    ['both loopback', ['Host: 127.0.0.1', 'Host: localhost']],
  ])('answers two Host headers (%s) with 400 (RFC 9112)', async (_name, headers) => {
    const before = world.mock.requests.length;
    const res = await raw(headers);
    expect(res.status).toBe(400);
    expect(res.headers['x-tether-error']).toBe('malformed-request');
    expect(world.mock.requests.length).toBe(before);
  });

  it('refuses a request with no Host at all', async () => {
    const res = await raw([]);
    expect(res.status).toBe(400);
  });
});
