// Codex CLI itself (`@openai/codex`, installed on demand into test/tools-pkg), set up the way
// the README says: `tether setup codex --write` (a `tether` model provider in config.toml), then
// `tether exec -- codex exec`. It speaks the Responses API to the proxy with the lease; the
// mock sees the real key and answers.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMED_SENTENCE } from './fixtures/completion-route.js';
import { scanForSecrets } from './support/secret-scan.js';
import { SERVER_BIN, runTether } from './support/tether-process.js';
import { World } from './support/world.js';
import { ensureCodex, type Tool } from './tools-pkg/ensure.js';

let world: World;
let codex: Tool;

beforeAll(async () => {
  codex = await ensureCodex();
  world = await World.start({ approve: 'allow' });
}, 300_000);

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

describe('Codex CLI through tether', () => {
  it('`tether setup codex --write` + `tether exec -- codex exec`: the mock answers, with the real key', async (ctx) => {
    if ('missing' in codex) return ctx.skip(`Codex CLI not available: ${codex.missing}`);
    const codexHome = join(world.root, 'codex-home');
    const work = join(world.root, 'codex-work');
    mkdirSync(codexHome, { recursive: true });
    mkdirSync(work, { recursive: true });
    // What the user already had stays.
    writeFileSync(join(codexHome, 'config.toml'), '# mine\nmodel_reasoning_effort = "low"\n');
    const env = { HOME: join(world.root, 'home'), CODEX_HOME: codexHome, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, CODEX_API_KEY: undefined };
    const setup = await world.server(['setup', 'codex', '--write'], env);
    expect(setup.code, setup.stderr).toBe(0);
    const config = readFileSync(join(codexHome, 'config.toml'), 'utf8');
    expect(config).toBe(
      [
        'model_provider = "tether"',
        '# mine',
        'model_reasoning_effort = "low"',
        '',
        '[model_providers.tether]',
        'name = "OpenAI through Tether"',
        `base_url = "${world.state.proxyUrl}/openai/v1"`,
        'env_key = "OPENAI_API_KEY"',
        'wire_api = "responses"',
        '',
      ].join('\n'),
    );
    expect((await world.server(['setup', 'codex', '--write'], env)).stdout).toContain('already has this');

    const before = world.mock.requests.length;
    // Offline but for the proxy: no update check, no analytics, no curated-plugin sync (GitHub, chatgpt.com).
    const offline = ['-c', 'check_for_update_on_startup=false', '-c', 'analytics.enabled=false', '-c', 'features.plugins=false'];
    const script = 'printf "lease=%s\\n" "$OPENAI_API_KEY" >&2; cd "$WORK" && exec "$CODEX" exec "$@" --skip-git-repo-check "say hello" </dev/null';
    const r = await runTether(['exec', '--', 'sh', '-c', script, 'sh', ...offline], {
      home: world.serverHome,
      bin: SERVER_BIN,
      env: { ...env, CODEX: codex.bin, WORK: work },
      timeoutMs: 60_000,
    });
    const lease = /lease=(\S*)/.exec(r.stderr)?.[1] ?? '';
    if (lease) world.tokens.add(lease);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lease).toMatch(/^tth_/);
    // `codex exec` prints the last message alone on stdout.
    expect(r.stdout.trim()).toBe(STREAMED_SENTENCE);

    const seen = world.mock.requests.slice(before);
    expect(seen.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['POST /v1/responses 200']);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${world.keys.openai}`);
    expect(JSON.stringify(seen[0]!.headers)).not.toContain('tth_');
    expect(seen[0]!.body).toMatchObject({ stream: true });
    // What Codex keeps (sessions, sqlite state, logs, shell snapshots) holds neither the lease nor the key.
    expect(scanForSecrets([codexHome, work], [lease, ...Object.values(world.keys)])).toEqual([]);
  }, 90_000);
});
