// The proxy answers only loopback tools: no DNS rebinding, no browser pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
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
function raw(headers: string[]): Promise<{ status: number; text: string }> {
  const { port } = new URL(world.state.proxyUrl);
  const body = JSON.stringify({ model: 'mock-1', messages: [] });
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
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
    ['a foreign Host', ['Host: evil.example']],
    ['a rebinding Host on our port', ['Host: evil.example:80']],
    ['an empty Host', ['Host: ']],
    ['an Origin', ['Host: 127.0.0.1', 'Origin: https://evil.example']],
    ['a Referer', ['Host: 127.0.0.1', 'Referer: https://evil.example/page']],
  ])('refuses %s', async (_name, headers) => {
    const before = world.mock.requests.length;
    const res = await raw(headers);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(world.mock.requests.length).toBe(before);
  });

  it.each([
    ['cross-site', 403],
    ['same-site', 403],
  ])('refuses a browser request with Sec-Fetch-Site: %s (no Origin, no Referer)', async (site, status) => {
    const before = world.mock.requests.length;
    const res = await raw(['Host: 127.0.0.1', `Sec-Fetch-Site: ${site}`, 'Sec-Fetch-Mode: no-cors']);
    expect(res.status).toBe(status);
    expect(res.text).toMatch(/Sec-Fetch-Site/);
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
    expect(world.mock.requests.length).toBe(before);
  });

  it('refuses a request with no Host at all', async () => {
    const res = await raw([]);
    expect(res.status).toBe(400);
  });
});
