// opencode itself (the npm package `opencode-ai`, installed on demand into test/tools-pkg), run
// the way the README says: `tether setup opencode --write`, then `tether exec -- opencode`. It
// must answer from the mock provider, which sees the real key; opencode sees only a lease.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanForSecrets } from './support/secret-scan.js';
import { SERVER_BIN, runTether } from './support/tether-process.js';
import { World } from './support/world.js';
import { ensureOpencode, type Tool } from './tools-pkg/ensure.js';

let world: World;
let opencode: Tool;

beforeAll(async () => {
  opencode = await ensureOpencode();
  world = await World.start({ approve: 'allow' });
}, 300_000);

afterAll(async () => {
  await world.stop();
  expect(world.leaks()).toEqual([]);
  await world.dispose();
});

describe('opencode through tether', () => {
  it('`tether setup opencode --write` + `tether exec -- opencode run`: the mock answers, with the real key', async (ctx) => {
    if ('missing' in opencode) return ctx.skip(`opencode not available: ${opencode.missing}`);
    // opencode's own home: config, data, state and cache all under the world, nothing shared.
    const home = join(world.root, 'opencode-home');
    const work = join(world.root, 'opencode-work');
    mkdirSync(work, { recursive: true });
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_DATA_HOME: join(home, '.local/share'),
      XDG_STATE_HOME: join(home, '.local/state'),
      XDG_CACHE_HOME: join(home, '.cache'),
      // No network but our proxy: its bundled model list, no update check, no plugin or LSP downloads.
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      ANTHROPIC_API_KEY: undefined,
      OPENAI_API_KEY: undefined,
    };
    const setup = await world.server(['setup', 'opencode', '--write'], env);
    expect(setup.code, setup.stderr).toBe(0);

    const before = world.mock.requests.length;
    // The child reports the key it was given (stderr), so the scans below can look for it too.
    const script = 'printf "lease=%s\\n" "$ANTHROPIC_API_KEY" >&2; cd "$WORK" && exec "$OPENCODE" run -m anthropic/claude-sonnet-4-5 "say hello"';
    const r = await runTether(['exec', '--', 'sh', '-c', script], {
      home: world.serverHome,
      bin: SERVER_BIN,
      env: { ...env, OPENCODE: opencode.bin, WORK: work },
      timeoutMs: 90_000,
    });
    const lease = /lease=(\S*)/.exec(r.stderr)?.[1] ?? '';
    if (lease) world.tokens.add(lease);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lease).toMatch(/^tth_/);
    expect(r.stdout).toContain('Hello from the mock provider');

    const seen = world.mock.requests.slice(before).filter((q) => q.path.startsWith('/v1/messages'));
    expect(seen.length).toBeGreaterThan(0);
    for (const q of seen) {
      expect(q.headers['x-api-key']).toBe(world.keys.anthropic);
      expect(JSON.stringify(q.headers)).not.toContain('tth_');
    }
    // What opencode keeps (config, sessions, logs) holds neither the lease nor the key.
    expect(scanForSecrets([home, work], [lease, ...Object.values(world.keys)])).toEqual([]);
  }, 120_000);
});
