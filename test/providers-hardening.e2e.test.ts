// The relay under real traffic: huge request bodies stream through, held back (bounded memory)
// when the provider does not read; upstream errors reach the client in the provider's own
// shape; 429 + retry-after passes through.
// (A client that goes away cancels the upstream request: test/relay.e2e.test.ts.)
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/tether-process.js';
import { World } from './support/world.js';

let world: World;
let token: string;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  token = (await world.token('openai')).stdout.trim();
});

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

const MIB = 1024 * 1024;

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}
const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Writes `chunk`; false when the request stayed backed up for `patienceMs` (nobody is reading). */
async function write(req: ClientRequest, chunk: Buffer, patienceMs = 1000): Promise<boolean> {
  if (req.write(chunk)) return true;
  return Promise.race([once(req, 'drain').then(() => true), delay(patienceMs).then(() => false)]);
}

function upload(path: string): { req: ClientRequest; answer: Promise<number> } {
  const req = request(`${world.state.proxyUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  const answer = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  return { req, answer };
}

describe('relay hardening', () => {
  it('streams a 32 MB request body: the provider reads it while it is still being sent, and gets every byte', async () => {
    const size = 32 * MIB;
    const before = world.mock.requests.length;
    const { req, answer } = upload('/openai/v1/chat/completions');
    const head = Buffer.from('{"model":"mock-1","messages":[{"role":"user","content":"');
    const tail = Buffer.from('"}]}');
    let sent = 0;
    const send = async (chunk: Buffer) => {
      expect(await write(req, chunk, 10_000)).toBe(true);
      sent += chunk.length;
    };
    await send(head);
    while (sent < size / 2) await send(CHUNK);
    // Half sent, the request still open: most of it has already reached the provider.
    await waitFor(() => ((world.mock.requests[before]?.bodyBytes ?? 0) >= size / 4 ? true : undefined), 'the provider to receive the first half');
    while (sent + CHUNK.length + tail.length <= size) await send(CHUNK);
    await send(Buffer.alloc(size - sent - tail.length, 'a'));
    req.end(tail);
    expect(await answer).toBe(200);
    const seen = world.mock.requests[before]!;
    expect(seen.bodyBytes).toBe(size);
    expect(seen.headers['transfer-encoding']).toBe('chunked'); // passed on as it came, not gathered to learn a length
  });

  it('holds a bounded amount of an upload the provider does not read: the client is held back instead', async () => {
    const pids = [world.daemon.pid, world.agent!.pid];
    const before = pids.map(rssMiB);
    const { req, answer } = upload('/openai/v1/stall-upload');
    answer.catch(() => {}); // we hang up on it below
    let accepted = 0;
    try {
      while (accepted < 96 * MIB && (await write(req, CHUNK))) accepted += CHUNK.length;
      const during = pids.map(rssMiB);
      // What got through sits in the relay windows (256 KiB a direction) and the kernel's
      // socket buffers on the two TCP hops (several MiB each on loopback), not in our processes.
      expect(accepted).toBeLessThan(48 * MIB);
      for (const [i, name] of ['daemon', 'agent'].entries()) expect(during[i]! - before[i]!, name).toBeLessThan(32);
    } finally {
      req.destroy();
    }
  });

  it('passes 429 and its retry-after through unchanged', async () => {
    const res = await world.proxy('/openai/v1/chat/completions', token, { body: { model: 'mock-status-429', messages: [] } });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });

  it('passes a 5xx through in the provider\'s shape', async () => {
    const res = await world.proxy('/openai/v1/chat/completions', token, { body: { model: 'mock-status-503', messages: [] } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error' } });
  });
});

describe('per-provider concurrency', () => {
  it('`tether status` shows how many requests are in flight for each credential', async () => {
    const providers = () => world.server(['status', '--json']).then((r) => (JSON.parse(r.stdout) as { laptops: { providers: { name: string; active?: number }[] }[] }).laptops[0]!.providers);
    const active = async (name: string) => (await providers()).find((p) => p.name === name)?.active ?? 0;
    // Earlier tests may leave a request held open (a hung-up upload the provider never read).
    const base = await active('openai');
    const hanging = [0, 1].map(() => {
      const { req, answer } = upload('/openai/v1/chat/completions');
      answer.catch(() => {});
      req.end(JSON.stringify({ model: 'mock-hang', stream: true, messages: [] }));
      return req;
    });
    await waitFor(async () => ((await active('openai')) === base + 2 ? true : undefined), 'two more requests in flight');
    expect(await active('anthropic')).toBe(0);
    const text = await world.server(['status']);
    expect(text.stdout).toContain(`openai [${base + 2} in flight]`);
    for (const req of hanging) req.destroy();
    await waitFor(async () => ((await active('openai')) === base ? true : undefined), 'the two to finish');
  });
});

describe('per-provider concurrency on the laptop', () => {
  it('the laptop\'s `tether status` shows the relay streams in flight per credential: a hanging request, then none after its abort', async () => {
    type View = { agent: { servers: { activeByCredential?: Record<string, number> }[] } };
    const counts = async () => (JSON.parse((await world.laptop(['status', '--json'])).stdout) as View).agent.servers[0]!.activeByCredential ?? {};
    const base = (await counts()).openai ?? 0; // a hung-up upload from an earlier test may still be open
    const { req, answer } = upload('/openai/v1/chat/completions');
    answer.catch(() => {});
    req.end(JSON.stringify({ model: 'mock-hang', stream: true, messages: [] }));
    await waitFor(async () => ((await counts()).openai === base + 1 ? true : undefined), 'the hanging request on the laptop');
    expect((await counts()).anthropic).toBe(0);
    const text = await world.laptop(['status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^    in flight: .*openai ${base + 1}`, 'm'));
    req.destroy(); // the client gives up: the proxy aborts the stream, the agent its upstream call
    await waitFor(async () => ((await counts()).openai === base ? true : undefined), 'the aborted request to leave the count');
  });
});

describe('upstream failures in the provider\'s shape', () => {
  async function leaseFor(name: string, baseUrl: string): Promise<string> {
    const add = await world.laptop(['creds', 'add', 'anthropic', '--name', name, '--base-url', baseUrl, '--store', 'file'], { input: 'sk-unused-key-0123456789\n' });
    expect(add.code, add.stderr).toBe(0);
    await world.waitForLaptops(1);
    const t = (await world.token(name)).stdout.trim();
    expect(t).toMatch(/^tth_/);
    return t;
  }

  it('connection refused becomes a 502 saying so, as Anthropic\'s error', async () => {
    const t = await leaseFor('refused', 'http://127.0.0.1:1');
    const res = await world.proxy('/refused/v1/messages', t, { headerName: 'x-api-key', body: { model: 'm', max_tokens: 1, messages: [] } });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(body.error.message).toMatch(/ECONNREFUSED/);
  });

  it('a TLS failure becomes a 502 naming the host', async () => {
    const t = await leaseFor('badtls', `https://127.0.0.1:${world.mock.port}`); // plain HTTP behind an https URL
    const res = await world.proxy('/badtls/v1/messages', t, { headerName: 'x-api-key', body: { model: 'm', max_tokens: 1, messages: [] } });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('api_error');
    expect(body.error.message).toContain(`127.0.0.1:${world.mock.port}`);
  });
});
