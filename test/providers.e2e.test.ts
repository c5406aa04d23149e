// Every provider's official client, configured only by `tether exec` or `tether env`, against
// the mock provider: the provider sees the real key in its own header, never a lease token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { World } from './support/world.js';
import { ROOT, SERVER_BIN } from './support/tether-process.js';
import { runShell } from './support/shell.js';

const client = join(ROOT, 'test/clients/sdk-client.mjs');
let world: World;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  await world.addCredential('gemini');
  await world.waitForLaptops(1);
  const s = await world.daemonStatus();
  expect(JSON.stringify(s)).toContain('gemini');
});

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

type Provider = 'openai' | 'anthropic' | 'gemini';
const KEY_HEADER: Record<Provider, (key: string) => [string, string]> = {
  openai: (k) => ['authorization', `Bearer ${k}`],
  anthropic: (k) => ['x-api-key', k],
  gemini: (k) => ['x-goog-api-key', k],
};

function parseOut(stdout: string): { ok: boolean; text: string; events: number; message?: string } {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { ok: boolean; text: string; events: number };
}

/** `tether exec --provider P -- node sdk-client.mjs P MODE`, with variables set that would win over ours. */
async function viaExec(provider: Provider, mode: string) {
  const r = await world.server(['exec', '--provider', provider, '--', process.execPath, client, provider, mode], {
    GOOGLE_API_KEY: 'a-stale-key-that-would-win',
    ANTHROPIC_AUTH_TOKEN: 'a-stale-token-that-would-win',
  });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return parseOut(r.stdout);
}

/** A shell evals `tether env`, then runs the client: the recipe for tools that are not started by tether. */
async function viaEnv(provider: Provider, mode: string) {
  const script = `eval "$("$NODE" "$SERVER_BIN" env --provider ${provider} --shell bash)" || exit 9; exec "$NODE" "$CLIENT" ${provider} ${mode}`;
  const r = await runShell(script, { TETHER_HOME: world.serverHome, NODE: process.execPath, SERVER_BIN, CLIENT: client, GOOGLE_API_KEY: 'stale', ANTHROPIC_AUTH_TOKEN: 'stale' });
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return parseOut(r.stdout);
}

describe.each([
  ['exec', viaExec],
  ['env', viaEnv],
] as const)('official SDKs through tether %s', (_how, run) => {
  it.each([
    ['openai', 'plain'],
    ['openai', 'stream'],
    ['anthropic', 'plain'],
    ['anthropic', 'stream'],
    ['gemini', 'plain'],
    ['gemini', 'stream'],
  ] as const)('%s %s', async (provider, mode) => {
    const before = world.mock.requests.length;
    const out = await run(provider, mode);
    expect(out.ok, out.message).toBe(true);
    expect(out.text).toMatch(/^Hello from the mock provider/);
    if (mode === 'stream') expect(out.events).toBeGreaterThan(3);

    const seen = world.mock.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.provider).toBe(provider);
    const [header, value] = KEY_HEADER[provider](world.keys[provider]);
    expect(seen[0]!.headers[header]).toBe(value);
    expect(JSON.stringify(seen[0]!.headers)).not.toMatch(/tth_|stale/);
  });
});

describe('LiteLLM-style clients (aider): only OPENAI_API_BASE / ANTHROPIC_API_BASE and the keys', () => {
  const litellm = join(ROOT, 'test/clients/litellm-style-client.mjs');
  // The *_BASE_URL names are removed before the client starts: what it reaches, it reached by the old names.
  const strip = ['env', '-u', 'OPENAI_BASE_URL', '-u', 'ANTHROPIC_BASE_URL', process.execPath, litellm];
  const viaExec = (provider: string) => world.server(['exec', '--provider', provider, '--', ...strip, provider]);
  const viaEnv = (provider: string) =>
    runShell(`eval "$("$NODE" "$SERVER_BIN" env --provider ${provider} --shell sh)" || exit 9; unset OPENAI_BASE_URL ANTHROPIC_BASE_URL; exec "$NODE" "$CLIENT" ${provider}`, {
      TETHER_HOME: world.serverHome, NODE: process.execPath, SERVER_BIN, CLIENT: litellm,
    });
  it.each([
    ['exec', 'openai', viaExec],
    ['exec', 'anthropic', viaExec],
    ['env', 'openai', viaEnv],
    ['env', 'anthropic', viaEnv],
  ] as const)('through tether %s: %s', async (_how, provider, run) => {
    const before = world.mock.requests.length;
    const r = await run(provider);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = parseOut(r.stdout) as { ok: boolean; text: string; status?: number; message?: string };
    expect(out.ok, out.message ?? String(out.status)).toBe(true);
    expect(out.text).toMatch(/^Hello from the mock provider/);
    const seen = world.mock.requests.slice(before);
    expect(seen).toHaveLength(1);
    const [header, value] = KEY_HEADER[provider](world.keys[provider]);
    expect(seen[0]!.headers[header]).toBe(value);
    expect(JSON.stringify(seen[0]!.headers)).not.toContain('tth_');
  });
});

describe('provider registry on the wire', () => {
  it('a custom OpenAI-compatible credential is served under its own name and variables', async () => {
    const add = await world.laptop(['creds', 'add', 'custom', '--name', 'my-vllm', '--base-url', world.mock.url, '--store', 'file'], {
      input: `${world.keys.openai}\n`,
    });
    expect(add.code, add.stderr).toBe(0);
    await world.waitForLaptops(1);
    const env = await world.server(['env', '--provider', 'my-vllm', '--shell', 'sh']);
    expect(env.code, env.stderr).toBe(0);
    const token = /^export MY_VLLM_API_KEY='(tth_[^']+)'$/m.exec(env.stdout)?.[1];
    expect(token).toBeDefined();
    world.tokens.add(token!);
    expect(env.stdout).toContain(`export MY_VLLM_BASE_URL='${world.state.proxyUrl}/my-vllm/v1'`);
    const res = await world.proxy('/my-vllm/v1/chat/completions', token!);
    expect(res.status).toBe(200);
    expect(world.mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${world.keys.openai}`);
  });

  it('answers an unknown lease in Gemini\'s own error shape', async () => {
    const res = await world.proxy('/gemini/v1beta/models/m:generateContent', `tth_${'x'.repeat(43)}`, { headerName: 'x-goog-api-key' });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-tether-error')).toBe('unknown-lease');
    expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED', tether_code: 'unknown-lease' } });
  });

  it('env --shell fish prints fish syntax; an unknown shell is a usage error', async () => {
    const fish = await world.server(['env', '--provider', 'gemini', '--shell', 'fish']);
    expect(fish.code, fish.stderr).toBe(0);
    expect(fish.stdout).toMatch(/^set -e GOOGLE_API_KEY$/m);
    expect(fish.stdout).toMatch(/^set -gx GEMINI_API_KEY 'tth_/m);
    world.tokens.add(/GEMINI_API_KEY '([^']+)'/.exec(fish.stdout)![1]!);
    const bad = await world.server(['env', '--provider', 'gemini', '--shell', 'csh']);
    expect(bad.code).toBe(1);
  });
});
