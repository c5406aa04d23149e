// The relay with the official SDKs, as tools on a server use it through `tether exec`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { join } from 'node:path';
import { retire } from './support/retire.js';
import { threadNice } from './support/thread-nice.js';
import { World } from './support/world.js';
import { ROOT } from './support/tether-process.js';

const client = join(ROOT, 'test/clients/sdk-client.mjs');
let world: World;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
});

afterAll(() => retire(world));

async function execClient(provider: string, mode: string, model?: string) {
  const r = await world.server(['exec', '--provider', provider, '--', process.execPath, client, provider, mode, ...(model ? [model] : [])]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; text: string; events: number };
}

describe('relay through tether exec with the official SDKs', () => {
  it.each([
    ['openai', 'plain'],
    ['openai', 'stream'],
    ['anthropic', 'plain'],
    ['anthropic', 'stream'],
  ])('%s %s', async (provider, mode) => {
    const before = world.mock.requests.length;
    const out = await execClient(provider, mode);
    expect(out.ok).toBe(true);
    expect(out.text).toMatch(/Hello from the mock provider/);
    if (mode === 'stream') expect(out.events).toBeGreaterThan(3);

    const seen = world.mock.requests.slice(before);
    expect(seen).toHaveLength(1);
    const headers = seen[0]!.headers;
    if (provider === 'openai') expect(headers.authorization).toBe(`Bearer ${world.keys.openai}`);
    else expect(headers['x-api-key']).toBe(world.keys.anthropic);
    expect(JSON.stringify(seen[0])).not.toContain('tth_');
  });

  it.runIf(process.platform === 'linux')('the daemon and the agent run their helper threads below their event loops', () => {
    for (const pid of [world.daemon.pid, world.agent!.pid]) {
      const threads = threadNice(pid);
      expect(threads.find((t) => t.tid === pid)?.nice).toBe(0);
      const lowered = threads.filter((t) => t.tid !== pid && t.nice === 19);
      expect(lowered.length, JSON.stringify(threads)).toBeGreaterThanOrEqual(4);
    }
  });

  it('the client receives the provider\'s bytes unchanged', async () => {
    const token = (await world.token('openai')).stdout.trim();
    const body = { model: 'mock-1', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const viaProxy = await (await world.proxy('/openai/v1/chat/completions', token, { body })).text();
    const direct = await (
      await fetch(`${world.mock.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${world.keys.openai}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).text();
    const strip = (s: string) => s.replace(/"(id|created)":\s*("[^"]*"|\d+)/g, '"$1":_');
    expect(viaProxy.length).toBeGreaterThan(100);
    expect(strip(viaProxy)).toBe(strip(direct));
  });

  it('the agent keeps its connection to the provider alive across requests', async () => {
    const token = (await world.token('openai')).stdout.trim();
    const before = world.mock.requests.length;
    for (let i = 0; i < 5; i++) {
      const res = await world.proxy('/openai/v1/chat/completions', token, { body: { model: 'mock-1', messages: [{ role: 'user', content: 'hi' }] } });
      expect(res.status).toBe(200);
      await res.text();
    }
    const ports = new Set(world.mock.requests.slice(before).map((r) => r.remotePort));
    expect(world.mock.requests.length - before).toBe(5);
    expect([...ports]).toHaveLength(1);
  });

  it('a client that goes away aborts the upstream request', async () => {
    const token = (await world.token('openai')).stdout.trim();
    const before = world.mock.requests.length;
    const url = new URL(`${world.state.proxyUrl}/openai/v1/chat/completions`);
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    const gotHead = new Promise<void>((resolve) => req.on('response', () => resolve()));
    req.on('error', () => {});
    req.end(JSON.stringify({ model: 'mock-hang', stream: true, messages: [] }));
    await gotHead;
    req.destroy();
    const upstream = world.mock.requests[before]!;
    await upstream.done;
    expect(upstream.aborted).toBe(true);
  });
});
