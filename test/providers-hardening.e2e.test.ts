// The relay under real traffic: huge request bodies stream with bounded memory, upstream
// errors reach the client in the provider's own shape, 429 + retry-after passes through.
// (A client that goes away cancels the upstream request: test/relay.e2e.test.ts.)
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** Resident and peak resident memory of a process, MiB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const MIB = 1024 * 1024;

/** A JSON body of `bytes` bytes, generated as it is sent: the test holds none of it. */
function bigBody(bytes: number): Readable {
  const head = Buffer.from('{"model":"mock-1","messages":[{"role":"user","content":"');
  const tail = Buffer.from('"}]}');
  const filler = Buffer.alloc(64 * 1024, 'a');
  let left = bytes - head.length - tail.length;
  let started = false;
  return new Readable({
    read() {
      if (!started) {
        started = true;
        this.push(head);
      } else if (left > 0) {
        const n = Math.min(left, filler.length);
        left -= n;
        this.push(filler.subarray(0, n));
      } else {
        this.push(tail);
        this.push(null);
      }
    },
  });
}

describe('relay hardening', () => {
  it('streams a 32 MB request body without holding it: the provider gets every byte, memory stays bounded', async () => {
    const size = 32 * MIB;
    const pids = [world.daemon.pid, world.agent!.pid];
    const before = pids.map(memory);
    const before0 = world.mock.requests.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${world.state.proxyUrl}/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      pipeline(bigBody(size), req).catch(reject);
    });
    expect(status).toBe(200);
    const seen = world.mock.requests[before0]!;
    expect(seen.bodyBytes).toBe(size);
    expect(seen.headers['transfer-encoding']).toBe('chunked'); // streamed on, not gathered to learn a length
    const after = pids.map(memory);
    for (const [i, name] of ['daemon', 'agent'].entries()) {
      // Peak resident memory grew by well under the body's size: it was never held whole.
      expect(after[i]!.peak - before[i]!.rss, name).toBeLessThan(size / MIB / 2);
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
