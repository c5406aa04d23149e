// Tool recipes as the tools themselves run them. Claude Code's apiKeyHelper contract: a shell
// runs the helper, its output is sent as both `x-api-key` and `Authorization: Bearer`, and a
// 401 makes the tool run the helper again.
import Anthropic from '@anthropic-ai/sdk';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShell } from './support/shell.js';
import { SERVER_BIN, waitFor } from './support/tether-process.js';
import { World } from './support/world.js';

let world: World;
let bin: string;

beforeAll(async () => {
  world = await World.start({ approve: 'allow' });
  // `tether` on PATH, as on a server where the bundle is installed.
  bin = join(world.root, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'tether'), `#!/bin/sh\nexec "${process.execPath}" "${SERVER_BIN}" "$@"\n`);
  chmodSync(join(bin, 'tether'), 0o755);
});

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

/** What Claude Code does with `apiKeyHelper: "tether token anthropic"`: `sh -c` the helper, take stdout. */
async function runHelper(): Promise<string> {
  const r = await runShell('tether token anthropic', { PATH: `${bin}:${process.env.PATH}`, TETHER_HOME: world.serverHome });
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
    const claudeDir = join(world.root, 'claude');
    mkdirSync(claudeDir, { recursive: true });
    writeFileSync(join(claudeDir, 'settings.json'), JSON.stringify({ apiKeyHelper: 'tether token anthropic' }));
    const r = await world.server(['env', '--provider', 'anthropic', '--shell', 'bash'], { CLAUDE_CONFIG_DIR: claudeDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^unset ANTHROPIC_API_KEY$/m);
    expect(r.stdout).toMatch(/^unset ANTHROPIC_AUTH_TOKEN$/m);
    expect(r.stdout).toMatch(new RegExp(`^export ANTHROPIC_BASE_URL='${world.state.proxyUrl}/anthropic'$`, 'm'));
    expect(r.stdout).not.toContain('tth_');
  });
});
