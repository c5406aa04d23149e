// Claude Code itself (`@anthropic-ai/claude-code`, installed on demand into test/tools-pkg), set
// up the way the README says: `tether setup claude-code --write`, then plain `claude`. Its
// settings' apiKeyHelper runs the real `tether token anthropic` (by absolute paths); ANTHROPIC_BASE_URL points at
// the proxy. The mock answers and sees the real key; no lease ever reaches it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMED_SENTENCE } from './fixtures/completion-route.js';
import { scanForSecrets } from './support/secret-scan.js';
import { TetherOnPath } from './support/tether-on-path.js';
import { runTether, waitFor } from './support/tether-process.js';
import { shellQuote } from '../remote/cli/setup.js';
import { World } from './support/world.js';
import { ensureClaudeCode, type Tool } from './tools-pkg/ensure.js';

let world: World;
let claude: Tool;
let tether: TetherOnPath;
let home: string;
let work: string;

/** Claude Code's environment: its own HOME, `tether` on PATH, and nothing but the proxy on the network. */
function claudeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    PATH: tether.PATH,
    TETHER_HOME: world.serverHome,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', // no autoupdater, telemetry, error reporting or feedback
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
  // Set, these would win over the helper (and CLAUDE_CONFIG_DIR would move the settings).
  for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CLAUDE_CONFIG_DIR']) delete env[name];
  return env;
}

function startClaude(args: string[]): ChildProcessWithoutNullStreams {
  if ('missing' in claude) throw new Error(claude.missing);
  return spawn(claude.bin, args, { cwd: work, env: claudeEnv(), stdio: 'pipe' });
}

beforeAll(async () => {
  claude = await ensureClaudeCode();
  world = await World.start({ approve: 'allow' });
  tether = await TetherOnPath.start(world.root);
  home = join(world.root, 'claude-home');
  work = join(world.root, 'claude-work');
  mkdirSync(work, { recursive: true });
}, 300_000);

afterAll(async () => {
  await tether?.close();
  for (const lease of tether?.leases ?? []) world.tokens.add(lease);
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

/** Every request Claude Code made since `from`: all to /v1/messages, all with the real key, none with a lease. */
function expectOnlyRealKey(from: number): void {
  const seen = world.mock.requests.slice(from);
  expect(seen.length).toBeGreaterThan(0);
  for (const q of seen) {
    expect(new URL(q.path, 'http://x').pathname).toBe('/v1/messages');
    expect(q.status).toBe(200);
    expect(q.headers['x-api-key']).toBe(world.keys.anthropic);
    expect(q.headers.authorization).toBeUndefined();
    expect(JSON.stringify(q.headers)).not.toContain('tth_');
  }
}

describe('Claude Code through tether', () => {
  it('`tether setup claude-code --write`, then `claude -p`: the helper fetches a lease, the mock answers with the real key', async (ctx) => {
    if ('missing' in claude) return ctx.skip(`Claude Code not available: ${claude.missing}`);
    // Run as the `tether` on PATH, so the helper setup writes (this node, that file) is the one that counts leases.
    const setup = await runTether(['setup', 'claude-code', '--write'], { home: world.serverHome, bin: join(tether.dir, 'tether'), env: { HOME: home, CLAUDE_CONFIG_DIR: undefined } });
    expect(setup.code, setup.stderr).toBe(0);
    const settings = JSON.parse(readFileSync(join(home, '.claude/settings.json'), 'utf8')) as Record<string, unknown>;
    const helper = `${shellQuote(process.execPath)} ${shellQuote(join(tether.dir, 'tether'))} token anthropic`;
    expect(settings).toEqual({ apiKeyHelper: helper, env: { ANTHROPIC_BASE_URL: `${world.state.proxyUrl}/anthropic` } });

    const before = world.mock.requests.length;
    const child = startClaude(['-p', 'say hello']);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr + stdout).toBe(0);
    expect(stdout.trim()).toBe(STREAMED_SENTENCE);
    expect(tether.leases).toHaveLength(1);
    expect(tether.leases[0]).toMatch(/^tth_/);
    expectOnlyRealKey(before);
    expect(scanForSecrets([home, work], [...tether.leases, ...Object.values(world.keys)])).toEqual([]);
  }, 60_000);

  it('a revoked lease: the next turn gets a 401, Claude Code runs the helper again, and the new lease works', async (ctx) => {
    if ('missing' in claude) return ctx.skip(`Claude Code not available: ${claude.missing}`);
    // One process, two turns (stream-json on stdin), so the helper's first lease is still in use at the second.
    const child = startClaude(['-p', '--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose']);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const results: { is_error?: boolean; result?: string }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as { type?: string; is_error?: boolean; result?: string };
      if (event.type === 'result') results.push(event);
    });
    const say = (text: string) => child.stdin.write(JSON.stringify({ type: 'user', message: { role: 'user', content: text } }) + '\n');
    const helperRuns = tether.leases.length;

    say('say hello');
    await waitFor(() => results.length === 1 || undefined, 'the first answer', 30_000);
    expect(results[0], stderr).toMatchObject({ is_error: false, result: STREAMED_SENTENCE });
    expect(tether.leases).toHaveLength(helperRuns + 1);
    const first = tether.leases.at(-1)!;

    const revoked = await world.laptop(['revoke']);
    expect(revoked.code, revoked.stderr).toBe(0);
    await waitFor(async () => ((await world.daemonStatus())?.leases.length === 0 ? true : undefined), 'the daemon to drop the leases');

    const before = world.mock.requests.length;
    say('say hello again');
    await waitFor(() => results.length === 2 || undefined, 'the second answer', 30_000);
    expect(results[1], stderr).toMatchObject({ is_error: false, result: STREAMED_SENTENCE });
    // The proxy refused the old lease (the mock never saw that request); the helper ran once more.
    expect(tether.leases).toHaveLength(helperRuns + 2);
    expect(tether.leases.at(-1)).not.toBe(first);
    expectOnlyRealKey(before);

    child.stdin.end();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    expect(scanForSecrets([home, work], [...tether.leases, ...Object.values(world.keys)])).toEqual([]);
  }, 90_000);
});
