// Gemini CLI itself (`@google/gemini-cli`, installed on demand into test/tools-pkg), set up the
// way the README says: `tether setup gemini-cli --write` (the API-key auth type in settings.json),
// then `tether exec -- gemini -p`. It reads GOOGLE_GEMINI_BASE_URL and GEMINI_API_KEY (a lease);
// the mock sees the real key in x-goog-api-key and answers both its router and its turn.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMED_SENTENCE } from './fixtures/completion-route.js';
import { scanForSecrets } from './support/secret-scan.js';
import { SERVER_BIN, runTether, waitFor } from './support/tether-process.js';
import { World } from './support/world.js';
import { ensureGeminiCli, type Tool } from './tools-pkg/ensure.js';

let world: World;
let gemini: Tool;

beforeAll(async () => {
  gemini = await ensureGeminiCli();
  world = await World.start({ approve: 'allow' });
  await world.addCredential('gemini');
  await waitFor(async () => (JSON.stringify(await world.daemonStatus()).includes('"gemini"') ? true : undefined), 'the laptop to offer gemini');
}, 300_000);

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

describe('Gemini CLI through tether', () => {
  it('`tether setup gemini-cli --write` + `tether exec -- gemini -p`: the mock answers, with the real key', async (ctx) => {
    if ('missing' in gemini) return ctx.skip(`Gemini CLI not available: ${gemini.missing}`);
    const home = join(world.root, 'gemini-home');
    const work = join(world.root, 'gemini-work');
    mkdirSync(join(home, '.gemini'), { recursive: true });
    mkdirSync(work, { recursive: true });
    // The user's own settings stay; this one keeps the CLI off the network (Clearcut usage statistics).
    writeFileSync(join(home, '.gemini/settings.json'), JSON.stringify({ privacy: { usageStatisticsEnabled: false } }));
    const env = {
      HOME: home,
      GEMINI_CLI_HOME: undefined,
      GEMINI_API_KEY: undefined,
      GOOGLE_API_KEY: undefined,
      GOOGLE_GEMINI_BASE_URL: undefined,
      // Headless runs need a trusted folder (https://geminicli.com/docs/cli/trusted-folders/).
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
    };
    const setup = await world.server(['setup', 'gemini-cli', '--write'], env);
    expect(setup.code, setup.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(home, '.gemini/settings.json'), 'utf8'))).toEqual({
      privacy: { usageStatisticsEnabled: false },
      security: { auth: { selectedType: 'gemini-api-key' } },
    });

    const before = world.mock.requests.length;
    const script = 'printf "lease=%s\\n" "$GEMINI_API_KEY" >&2; cd "$WORK" && exec "$GEMINI" -p "say hello" </dev/null';
    const r = await runTether(['exec', '--provider', 'gemini', '--', 'sh', '-c', script], {
      home: world.serverHome,
      bin: SERVER_BIN,
      env: { ...env, GEMINI: gemini.bin, WORK: work },
      timeoutMs: 60_000,
    });
    const lease = /lease=(\S*)/.exec(r.stderr)?.[1] ?? '';
    if (lease) world.tokens.add(lease);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lease).toMatch(/^tth_/);
    expect(r.stdout.trim()).toBe(STREAMED_SENTENCE);

    // Its model router (JSON mode), then the turn itself, streamed.
    const seen = world.mock.requests.slice(before);
    expect(seen.some((q) => /^\/v1beta\/models\/[^/:]+:streamGenerateContent\?alt=sse$/.test(q.path))).toBe(true);
    for (const q of seen) {
      expect(q.path).toMatch(/^\/v1beta\/models\/[^/:]+:(generateContent|streamGenerateContent\?alt=sse)$/);
      expect(q.status).toBe(200);
      expect(q.headers['x-goog-api-key']).toBe(world.keys.gemini);
      expect(JSON.stringify(q.headers)).not.toContain('tth_');
    }
    // What Gemini CLI keeps (history, chats, logs under ~/.gemini) holds neither the lease nor the key.
    expect(scanForSecrets([home, work], [lease, ...Object.values(world.keys)])).toEqual([]);
  }, 90_000);
});
