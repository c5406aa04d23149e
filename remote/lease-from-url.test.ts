import { describe, expect, it } from 'vitest';
import type { FakeStream } from './testing/fake-laptop.js';
import { daemonPerTest } from './testing/daemon-per-test.js';
import { autoGrant, leaseToken, pairedLaptop, request } from './testing/harness.js';
import { leaseFromUrl, takeQueryParam } from './lease-from-url.js';

const lease = `tth_${'a'.repeat(43)}`;

describe('takeQueryParam', () => {
  it.each([
    [`/m:gen?key=${lease}`, '/m:gen'],
    [`/m:gen?key=${lease}&alt=sse`, '/m:gen?alt=sse'],
    [`/m:gen?alt=sse&key=${lease}`, '/m:gen?alt=sse'],
    [`/m:gen?a=1&key=${lease}&b=%2F+x`, '/m:gen?a=1&b=%2F+x'],
    [`/m:gen?key=placeholder&key=${lease}&key=`, '/m:gen'],
    [`/m:gen?k%65y=${encodeURIComponent(lease)}&alt=sse`, '/m:gen?alt=sse'],
  ])('takes the lease out of %s', (path, rest) => {
    expect(takeQueryParam(path, 'key')).toEqual({ token: lease, path: rest });
  });

  it('keeps the rest of the query byte for byte and leaves paths without the parameter alone', () => {
    expect(takeQueryParam('/m?alt=sse&$fields=a%2Cb', 'key')).toBeUndefined();
    expect(takeQueryParam('/m', 'key')).toBeUndefined();
    expect(takeQueryParam('/m?keys=1&apikey=2', 'key')).toBeUndefined();
    // An empty or undecodable value is still cut from the path; it just carries no lease.
    expect(takeQueryParam('/m?key=&alt=sse', 'key')).toEqual({ token: undefined, path: '/m?alt=sse' });
    expect(takeQueryParam('/m?key=%E0%A4%A&x=1', 'key')).toEqual({ token: undefined, path: '/m?x=1' });
    expect(takeQueryParam('/m?key=plain', 'key')).toEqual({ token: 'plain', path: '/m' });
  });

  it('only for providers whose registry entry takes a key in the URL', () => {
    expect(leaseFromUrl(`/v1beta/models/m:generateContent?key=${lease}`, 'gemini')).toEqual({ token: lease, path: '/v1beta/models/m:generateContent' });
    expect(leaseFromUrl(`/v1/chat/completions?key=${lease}`, 'openai')).toBeUndefined();
    expect(leaseFromUrl(`/v1/chat/completions?key=${lease}`, 'no-such-provider')).toBeUndefined();
  });
});

describe('the proxy with a lease in ?key=', () => {
  const scene = daemonPerTest();

  async function geminiLaptop() {
    const { daemon } = await scene.start();
    const laptop = await pairedLaptop(daemon, { offer: [] });
    scene.laptops.push(laptop);
    const offered = new Promise<void>((resolve) => daemon.links()[0]!.onOffer(() => resolve()));
    laptop.offer([
      { name: 'gemini', provider: 'gemini', mode: 'relay' },
      { name: 'openai', provider: 'openai', mode: 'relay' },
    ]);
    await offered;
    autoGrant(laptop);
    const opened: FakeStream[] = [];
    laptop.onRelayOpen = (stream) => {
      opened.push(stream);
      stream.head(200, [['content-type', 'text/plain']]);
      stream.send(Buffer.from('ok'));
      stream.end();
    };
    return { daemon, opened };
  }

  it('relays under that lease, without the parameter in the path the laptop sees', async () => {
    const { daemon, opened } = await geminiLaptop();
    const { token } = await leaseToken(daemon, 'gemini');
    const answer = await request(`${daemon.proxyUrl}/gemini/v1beta/models/m:streamGenerateContent?key=${token}&alt=sse`, { method: 'POST', body: '{}' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.text).toBe('ok');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.open.path).toBe('/v1beta/models/m:streamGenerateContent?alt=sse');
    expect(JSON.stringify(opened[0]!.open)).not.toContain(token);
  });

  it('a key header still wins, and a provider that takes no key in the URL gets a 401 naming the missing token', async () => {
    const { daemon, opened } = await geminiLaptop();
    const { token } = await leaseToken(daemon, 'gemini');
    const viaHeader = await request(`${daemon.proxyUrl}/gemini/v1beta/models/m:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': token }, body: '{}' });
    expect(viaHeader.status).toBe(200);
    const openaiLease = (await leaseToken(daemon, 'openai')).token;
    const refused = await request(`${daemon.proxyUrl}/openai/v1/chat/completions?key=${openaiLease}`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(opened).toHaveLength(1);
  });

  it('an ended lease in ?key= is refused in Gemini\'s shape', async () => {
    const { daemon } = await geminiLaptop();
    const answer = await request(`${daemon.proxyUrl}/gemini/v1beta/models/m:generateContent?key=${lease}`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });
});
