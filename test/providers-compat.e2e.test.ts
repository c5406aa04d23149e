// Provider compatibility gaps, with real processes against the mock provider: Gemini's key in
// `?key=` (relay and forward mode), LiteLLM's GEMINI_API_BASE, custom endpoints that take their
// key in another header or scheme, and Azure OpenAI through the openai SDK's AzureOpenAI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockProvider, type MockProvider, type RecordedRequest } from './fixtures/mock-provider.js';
import { World } from './support/world.js';
import { ROOT, SERVER_BIN, waitFor } from './support/tether-process.js';
import { runShell } from './support/shell.js';

const CLIENT = join(ROOT, 'test/clients/compat-client.mjs');
let world: World;
/** OpenAI-compatible gateways that take their key elsewhere than `Authorization: Bearer`. */
const gateways: { name: string; header: string; prefix: string; key: string; mock?: MockProvider }[] = [
  { name: 'gw-xkey', header: 'x-api-key', prefix: '', key: `gw-${randomBytes(16).toString('hex')}` },
  { name: 'gw-token', header: 'authorization', prefix: 'Token ', key: `gw-${randomBytes(16).toString('hex')}` },
];

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  await world.addCredential('gemini');
  // Azure's key is the one the mock expects for OpenAI's shapes; its deployment route checks it in api-key.
  await addCredential(['azure-openai', '--base-url', world.mock.url], world.keys.openai);
  for (const gw of gateways) {
    gw.mock = await startMockProvider({ keys: { openai: gw.key }, openaiKeyIn: { header: gw.header, prefix: gw.prefix } });
    await addCredential(['custom', '--name', gw.name, '--base-url', gw.mock.url, '--key-header', gw.header, '--key-prefix', gw.prefix], gw.key);
  }
  await waitFor(async () => (JSON.stringify(await world.daemonStatus()).includes('"gw-token"') ? true : undefined), 'every credential offered');
}, 60_000);

afterAll(async () => {
  for (const gw of gateways) {
    world?.tokens.add(gw.key); // scanned like the world's own keys
    await gw.mock?.close();
  }
  await world?.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

async function addCredential(args: string[], secret: string): Promise<void> {
  const r = await world.laptop(['creds', 'add', ...args, '--store', 'file'], { input: `${secret}\n` });
  expect(r.code, r.stderr).toBe(0);
}

function parseOut(stdout: string): { ok: boolean; text: string; events: number; status?: number; message?: string } {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { ok: boolean; text: string; events: number };
}

function lastRequest(mock: MockProvider, before: number): RecordedRequest {
  const seen = mock.requests.slice(before);
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

/** Lines of the laptop's audit log: what it records of a request must not hold the lease either. */
function laptopAudit(): string {
  const file = join(world.laptopHome, 'audit.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

describe('Gemini: the lease in ?key=', () => {
  it('a raw streaming request with ?key=<lease>&alt=sse gets the answer; the provider sees the real key and no key= in the URL', async () => {
    const r = await world.token('gemini');
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    const before = world.mock.requests.length;
    const res = await fetch(`${world.state.proxyUrl}/gemini/v1beta/models/mock-1:streamGenerateContent?key=${token}&alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }),
    });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const texts = body.split(/\r?\n/).filter((l) => l.startsWith('data: ')).map((l) => (JSON.parse(l.slice(6)) as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0]!.content.parts[0]!.text);
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.join('')).toMatch(/^Hello from the mock provider/);

    const seen = lastRequest(world.mock, before);
    expect(seen.provider).toBe('gemini');
    expect(seen.headers['x-goog-api-key']).toBe(world.keys.gemini);
    expect(seen.path).toBe('/v1beta/models/mock-1:streamGenerateContent?alt=sse');
    expect(JSON.stringify(seen)).not.toContain('tth_');
    expect(laptopAudit()).not.toContain(token);
  });

  it('without any key, or with a lease in ?key= for a provider that takes none, the answer is a 401 in that provider\'s shape', async () => {
    const none = await fetch(`${world.state.proxyUrl}/gemini/v1beta/models/mock-1:generateContent?alt=sse`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { status: 'UNAUTHENTICATED' } });
    const r = await world.token('openai');
    const wrong = await fetch(`${world.state.proxyUrl}/openai/v1/chat/completions?key=${r.stdout.trim()}`, { method: 'POST', body: '{}' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });

  it.each([
    ['exec', 'gemini-rest'],
    ['exec', 'litellm-gemini'],
    ['env', 'gemini-rest'],
    ['env', 'litellm-gemini'],
  ] as const)('through tether %s: the %s recipe', async (how, mode) => {
    const before = world.mock.requests.length;
    const r =
      how === 'exec'
        ? await world.server(['exec', '--provider', 'gemini', '--', process.execPath, CLIENT, mode])
        : await runShell(`eval "$("$NODE" "$SERVER_BIN" env --provider gemini --shell sh)" || exit 9; exec "$NODE" "$CLIENT" ${mode}`, {
            TETHER_HOME: world.serverHome, NODE: process.execPath, SERVER_BIN, CLIENT,
          });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = parseOut(r.stdout);
    expect(out.ok, out.message).toBe(true);
    expect(out.text).toMatch(/^Hello from the mock provider/);
    const seen = lastRequest(world.mock, before);
    expect(seen.headers['x-goog-api-key']).toBe(world.keys.gemini);
    expect(seen.path).toBe('/v1beta/models/mock-1:streamGenerateContent?alt=sse');
    expect(JSON.stringify(seen)).not.toContain('tth_');
  });

  it('forward mode treats the URL the same: the daemon calls the provider without the lease, with the minted key in its header', async () => {
    const keyFile = join(world.root, 'gemini-key');
    writeFileSync(keyFile, world.keys.gemini, { mode: 0o600 });
    const added = await world.laptop(['creds', 'add', 'gem-fwd', '--provider', 'gemini', '--command', `cat ${keyFile}`, '--ttl', '5m', '--base-url', world.mock.url]);
    expect(added.code, added.stderr).toBe(0);
    await waitFor(async () => (JSON.stringify(await world.daemonStatus()).includes('"gem-fwd"') ? true : undefined), 'gem-fwd offered');
    const r = await world.token('gem-fwd');
    expect(r.code, r.stderr).toBe(0);
    const before = world.mock.requests.length;
    const res = await fetch(`${world.state.proxyUrl}/gem-fwd/v1beta/models/mock-1:generateContent?key=${r.stdout.trim()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('Hello from the mock provider');
    const seen = lastRequest(world.mock, before);
    expect(seen.headers['x-goog-api-key']).toBe(world.keys.gemini);
    expect(seen.path).toBe('/v1beta/models/mock-1:generateContent');
  });
});

describe('custom OpenAI-compatible endpoints with their own key header and scheme', () => {
  it.each([
    ['gw-xkey', 'plain'],
    ['gw-xkey', 'stream'],
    ['gw-token', 'plain'],
    ['gw-token', 'stream'],
  ] as const)('the openai SDK through tether exec reaches %s (%s) with the real key where it wants it', async (name, how) => {
    const gw = gateways.find((g) => g.name === name)!;
    const before = gw.mock!.requests.length;
    const r = await world.server(['exec', '--provider', name, '--', process.execPath, CLIENT, `custom:${name}`, how]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = parseOut(r.stdout);
    expect(out.ok, out.message).toBe(true);
    expect(out.text).toMatch(/^Hello from the mock provider/);
    if (how === 'stream') expect(out.events).toBeGreaterThan(3);
    const seen = lastRequest(gw.mock!, before);
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers[gw.header]).toBe(gw.prefix + gw.key);
    // The SDK's own Authorization: Bearer <lease> was taken off; only the gateway's key remains.
    if (gw.header !== 'authorization') expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain('tth_');
  });
});

describe('Azure OpenAI through the openai SDK\'s AzureOpenAI', () => {
  it.each(['plain', 'stream'] as const)('%s: deployment URL with api-version, key in api-key', async (how) => {
    const before = world.mock.requests.length;
    const r = await world.server(['exec', '--provider', 'azure-openai', '--', process.execPath, CLIENT, 'azure', how]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = parseOut(r.stdout);
    expect(out.ok, out.message).toBe(true);
    expect(out.text).toMatch(/^Hello from the mock provider/);
    if (how === 'stream') expect(out.events).toBeGreaterThan(3);
    const seen = lastRequest(world.mock, before);
    expect(seen.path).toBe('/openai/deployments/mock-deploy/chat/completions?api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe(world.keys.openai);
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain('tth_');
  });

  it('the mock refuses what Azure refuses: no api-version, or the key in the wrong header', async () => {
    const url = `${world.mock.url}/openai/deployments/mock-deploy/chat/completions`;
    const body = JSON.stringify({ model: 'mock-deploy', messages: [{ role: 'user', content: 'hi' }] });
    const noVersion = await fetch(url, { method: 'POST', headers: { 'api-key': world.keys.openai, 'content-type': 'application/json' }, body });
    expect(noVersion.status).toBe(404);
    const bearer = await fetch(`${url}?api-version=2024-10-21`, { method: 'POST', headers: { authorization: `Bearer ${world.keys.openai}`, 'content-type': 'application/json' }, body });
    expect(bearer.status).toBe(401);
  });
});
