import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { malformedOf } from './loopback-server.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, leaseToken, pairedLaptop, portOf, rawRequest, request } from './testing/harness.js';

const scene = daemonPerTest();

async function setup() {
  const started = await scene.start();
  const laptop = await pairedLaptop(started.daemon, { name: 'alice-mbp', offer: ['openai', 'anthropic'] });
  scene.laptops.push(laptop);
  autoGrant(laptop);
  return { daemon: started.daemon, laptop };
}

describe('proxy request checks', () => {
  it.each([
    ['a foreign Host', 'Host: evil.example\r\n', 'not-loopback'],
    ['a foreign Host with a port', 'Host: evil.example:80\r\n', 'not-loopback'],
    ['an empty Host', 'Host: \r\n', 'not-loopback'],
    ['no Host in HTTP/1.0', '', 'not-loopback'],
    ['an Origin', 'Host: 127.0.0.1\r\nOrigin: http://evil.example\r\n', 'browser-request'],
    ['a Referer', 'Host: localhost\r\nReferer: http://evil.example/x\r\n', 'browser-request'],
  ])('refuses %s with 403, on the proxy and the control API', async (_what, headers, code) => {
    const { daemon } = await setup();
    const version = headers === '' ? 'HTTP/1.0' : 'HTTP/1.1';
    for (const path of ['/openai/v1/models', '/_tether/v1/status']) {
      const answer = await rawRequest(portOf(daemon.proxyUrl), `GET ${path} ${version}\r\n${headers}Connection: close\r\n\r\n`);
      expect(answer.status).toBe(403);
      expect(answer.headers['x-tether-error']).toBe(code);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code } });
    }
  });

  it('answers an HTTP/1.1 request with no Host with 400 (RFC 9112 §3.2), whether or not Node\'s parser does', async () => {
    // Node 20's parser answers it before the handler runs; Node 18's passes it on: the handler says the same.
    expect(malformedOf({ rawHeaders: [], httpVersion: '1.1' } as unknown as IncomingMessage)).toMatchObject({ code: 'malformed-request', status: 400 });
    expect(malformedOf({ rawHeaders: [], httpVersion: '1.0' } as unknown as IncomingMessage)).toBeUndefined();
    const { daemon } = await setup();
    const answer = await rawRequest(portOf(daemon.proxyUrl), 'GET /_tether/v1/status HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(answer.status).toBe(400);
  });

  it.each(['127.0.0.1', '127.1.2.3:8080', 'localhost:1', 'LOCALHOST', '[::1]:9'])('accepts Host %s', async (host) => {
    const { daemon } = await setup();
    const answer = await rawRequest(portOf(daemon.proxyUrl), `GET /_tether/v1/status HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe(200);
  });

  it('answers a missing or unknown token with a 401 in the provider\'s shape, and an unknown name with a 404', async () => {
    const { daemon } = await setup();
    const none = await request(`${daemon.proxyUrl}/anthropic/v1/messages`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toBe('application/json');
    expect(none.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(none.code()).toBe('no-lease-token');
    const bogus = await request(`${daemon.proxyUrl}/openai/v1/models`, { headers: { 'x-api-key': 'sk-not-a-lease' } });
    expect(bogus.status).toBe(401);
    expect(bogus.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(bogus.code()).toBe('unknown-lease');
    const unknown = await request(`${daemon.proxyUrl}/nothing-here/v1/models`);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(unknown.code()).toBe('unknown-credential');
  });

  it('refuses a lease on the wrong credential path', async () => {
    const { daemon } = await setup();
    const { token } = await leaseToken(daemon, 'openai');
    const answer = await request(`${daemon.proxyUrl}/anthropic/v1/messages`, { headers: { 'x-api-key': token } });
    expect(answer.status).toBe(401);
    expect(answer.code()).toBe('wrong-credential');
  });
});

describe('relaying', () => {
  it.each([
    ['authorization', (t: string) => `Bearer ${t}`],
    ['x-api-key', (t: string) => t],
    ['x-goog-api-key', (t: string) => t],
    ['api-key', (t: string) => t],
  ])('takes the lease from %s and strips every key and hop-by-hop header', async (header, value) => {
    const { daemon, laptop } = await setup();
    const { token, leaseId } = await leaseToken(daemon, 'openai');
    laptop.onRelayOpen = (stream) => {
      void stream.requestBody().then((body) => {
        stream.head(200, [['content-type', 'application/json'], ['x-upstream', 'yes'], ['connection', 'close'], ['transfer-encoding', 'chunked']]);
        stream.send(Buffer.from(JSON.stringify({ echo: body.toString('utf8') })));
        stream.end();
      });
    };
    const answer = await request(`${daemon.proxyUrl}/openai/v1/chat/completions?stream=false`, {
      method: 'POST',
      headers: {
        [header]: value(token),
        'x-api-key': header === 'x-api-key' ? token : 'also-a-key',
        'api-key': header === 'api-key' ? token : 'also-a-key',
        'x-goog-api-key': header === 'x-goog-api-key' ? token : 'also-a-key',
        'content-type': 'application/json',
        'x-tether-pid': '1',
        'proxy-authorization': 'Basic abc',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'x-drop-me': 'because connection says so',
        connection: 'x-drop-me',
      },
      body: '{"model":"gpt"}',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-upstream']).toBe('yes');
    expect(answer.json()).toEqual({ echo: '{"model":"gpt"}' });
    const stream = laptop.stream(1)!;
    expect(stream.open).toMatchObject({ leaseId, method: 'POST', path: '/v1/chat/completions?stream=false' });
    const names = stream.open.headers.map(([n]) => n.toLowerCase());
    expect(names).toContain('content-type');
    expect(names).toContain('content-length');
    for (const banned of ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'host', 'connection', 'keep-alive', 'te', 'proxy-authorization', 'x-tether-pid', 'x-drop-me']) {
      expect(names).not.toContain(banned);
    }
    expect(JSON.stringify(stream.open)).not.toContain(token);
  });

  it('answers 502 in the provider\'s shape when the laptop aborts before a head', async () => {
    const { daemon, laptop } = await setup();
    const { token } = await leaseToken(daemon, 'anthropic');
    laptop.onRelayOpen = (stream) => stream.abort('upstream refused the connection');
    const answer = await request(`${daemon.proxyUrl}/anthropic/v1/messages`, { method: 'POST', headers: { 'x-api-key': token }, body: '{}' });
    expect(answer.status).toBe(502);
    expect(answer.code()).toBe('relay-failed');
    // The laptop's reason is passed on: it is what tells the user where it broke.
    expect(answer.json()).toMatchObject({ type: 'error', error: { type: 'api_error', message: expect.stringContaining('upstream refused') } });
  });

  it('tells the laptop when the client goes away mid-response', async () => {
    const { daemon, laptop } = await setup();
    const { token } = await leaseToken(daemon, 'openai');
    laptop.onRelayOpen = (stream) => {
      stream.head(200, [['content-type', 'text/event-stream']]);
      stream.send(Buffer.from('data: 1\n\n'));
    };
    const http = await import('node:http');
    await new Promise<void>((resolve) => {
      const req = http.request(`${daemon.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.end('{}');
    });
    expect(await laptop.next('relay.abort')).toMatchObject({ sid: 1 });
  });

  it('aborts open streams with the laptop: the client sees the response cut', async () => {
    const { daemon, laptop } = await setup();
    const { token } = await leaseToken(daemon, 'openai');
    laptop.onRelayOpen = (stream) => {
      stream.head(200, [['content-type', 'text/event-stream']]);
      stream.send(Buffer.from('data: 1\n\n'));
      setImmediate(() => laptop.close());
    };
    const outcome = await request(`${daemon.proxyUrl}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' }).then(
      () => 'complete',
      () => 'cut',
    );
    expect(outcome).toBe('cut');
  });
});
