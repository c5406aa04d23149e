// Tool recipes as the tools themselves run them. Claude Code's apiKeyHelper contract: a shell
// runs the helper, its output is sent as both `x-api-key` and `Authorization: Bearer`, and a
// 401 makes the tool run the helper again.
import Anthropic from '@anthropic-ai/sdk';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShell } from './support/shell.js';
import { shellQuote } from '../remote/cli/setup.js';
import { SERVER_BIN, runTether, waitFor } from './support/tether-process.js';
import { World } from './support/world.js';

let world: World;
// The server bundle where a shell needs quoting to name it, reached through a link as on PATH.
let bundle: string;
let link: string;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  bundle = join(world.root, "o'brien's tools", 'tether');
  mkdirSync(dirname(bundle));
  copyFileSync(SERVER_BIN, bundle);
  link = join(world.root, 'bin', 'tether');
  mkdirSync(dirname(link));
  symlinkSync(bundle, link);
});

/** `tether setup …` run as `node <link to the bundle> setup …`. */
const setup = (args: string[], env: Record<string, string>) => runTether(['setup', ...args], { home: world.serverHome, bin: link, env });
const HELPER = () => `${shellQuote(process.execPath)} ${shellQuote(bundle)} token anthropic`;

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

let claudeDir: string;
// Made at run time: a key-shaped literal must never be committed.
const OLD_KEY = `sk-ant-old-${randomBytes(12).toString('hex')}`;

/**
 * What Claude Code does with its settings' apiKeyHelper: `sh -c` the command, take stdout. Its
 * shell read no profile, so tether is not on its PATH.
 */
async function runHelper(): Promise<string> {
  const settings = JSON.parse(readFileSync(join(claudeDir, 'settings.json'), 'utf8')) as { apiKeyHelper: string };
  const r = await runShell(settings.apiKeyHelper, { PATH: '/usr/bin:/bin', TETHER_HOME: world.serverHome });
  expect(r.code, r.stderr).toBe(0);
  const key = r.stdout.trim();
  world.tokens.add(key);
  return key;
}

/** Claude Code sends the helper's value in both headers. */
function claude(key: string): Anthropic {
  return new Anthropic({ apiKey: key, authToken: key, baseURL: `${world.state.proxyUrl}/anthropic`, maxRetries: 0 });
}

const ask = (c: Anthropic) => c.messages.create({ model: 'mock-1', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });

describe('tether setup', () => {
  it('claude-code: shows the change, writes it only with --write, keeps other settings, removes a key that would win', async () => {
    claudeDir = join(world.root, 'claude');
    mkdirSync(claudeDir);
    const file = join(claudeDir, 'settings.json');
    writeFileSync(file, JSON.stringify({ model: 'opus', env: { FOO: '1', ANTHROPIC_API_KEY: OLD_KEY } }, null, 2) + '\n', { mode: 0o600 });
    const env = { CLAUDE_CONFIG_DIR: claudeDir };

    const dry = await setup(['claude-code'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`+   "apiKeyHelper": ${JSON.stringify(HELPER())}`);
    expect(dry.stdout).toContain('-     "ANTHROPIC_API_KEY": "(hidden)"');
    expect(dry.stdout).not.toContain(OLD_KEY);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('env.ANTHROPIC_API_KEY', OLD_KEY);

    const wrote = await setup(['claude-code', '--write'], env);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toContain(`wrote ${file}`);
    const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(settings).toEqual({ model: 'opus', apiKeyHelper: HELPER(), env: { FOO: '1', ANTHROPIC_BASE_URL: `${world.state.proxyUrl}/anthropic` } });
    expect(readFileSync(file, 'utf8')).not.toMatch(/tth_|sk-/);

    const again = await setup(['claude-code', '--write'], env);
    expect(again.stdout).toContain('already has this');
  });

  it('opencode: baseURLs at the proxy in opencode.json; codex is shown without --write; an unknown tool is refused', async () => {
    const xdg = join(world.root, 'xdg');
    const r = await world.server(['setup', 'opencode', '--write'], { XDG_CONFIG_HOME: xdg });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(xdg, 'opencode/opencode.json'), 'utf8')) as { provider: Record<string, { options: { baseURL: string } }> };
    expect(config.provider.openai!.options.baseURL).toBe(`${world.state.proxyUrl}/openai/v1`);
    expect(config.provider.anthropic!.options.baseURL).toBe(`${world.state.proxyUrl}/anthropic/v1`);
    // Never the real ~/.codex: test/codex.e2e.test.ts writes and runs it.
    const codex = await world.server(['setup', 'codex'], { CODEX_HOME: join(world.root, 'codex') });
    expect(codex.code).toBe(0);
    expect(codex.stdout).toContain('tether exec --provider openai -- codex');
    expect((await world.server(['setup', 'vim'])).code).toBe(1);
  });
});

describe('Claude Code apiKeyHelper contract', () => {
  it('helper output works in both headers; after a revocation the 401 leads to a new lease that works', async () => {
    const first = await runHelper();
    expect(first).toMatch(/^tth_/);
    const before = world.mock.requests.length;
    const ok = await ask(claude(first));
    expect(ok.content[0]).toMatchObject({ type: 'text' });
    const seen = world.mock.requests[before]!;
    expect(seen.headers['x-api-key']).toBe(world.keys.anthropic);
    expect(seen.headers.authorization).toBeUndefined(); // the lease in Authorization is stripped, not forwarded

    const revoked = await world.laptop(['revoke']);
    expect(revoked.code, revoked.stderr).toBe(0);
    await waitFor(async () => ((await world.daemonStatus())?.leases.length === 0 ? true : undefined), 'the daemon to drop the lease');

    const refused = await ask(claude(first)).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((refused as InstanceType<typeof Anthropic.AuthenticationError>).status).toBe(401);

    // What Claude Code does on a 401: run the helper again and retry.
    const second = await runHelper();
    expect(second).not.toBe(first);
    const again = await ask(claude(second));
    expect(again.content[0]).toMatchObject({ type: 'text' });
    expect(world.mock.requests.at(-1)!.headers['x-api-key']).toBe(world.keys.anthropic);
  });

  it('with an apiKeyHelper configured, `tether env` leaves ANTHROPIC_API_KEY unset so the helper wins', async () => {
    const r = await world.server(['env', '--provider', 'anthropic', '--shell', 'bash'], { CLAUDE_CONFIG_DIR: claudeDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^unset ANTHROPIC_API_KEY$/m);
    expect(r.stdout).toMatch(/^unset ANTHROPIC_AUTH_TOKEN$/m);
    expect(r.stdout).toMatch(new RegExp(`^export ANTHROPIC_BASE_URL='${world.state.proxyUrl}/anthropic'$`, 'm'));
    expect(r.stdout).not.toContain('tth_');
  });
});
