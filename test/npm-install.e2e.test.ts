// The CLI installs without a clone: `npm pack` of this checkout (its `prepare` builds dist/)
// gives a tarball that `npm install -g` puts into a clean prefix, without Electron, and the
// installed `tether` works there: help, a credential in the file vault, a daemon and an agent
// over a Unix socket, a lease, a relayed request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMockProvider, type MockProvider } from './fixtures/mock-provider.js';
import { removeDir, tempDir } from './support/homes.js';
import { scanForSecrets } from './support/secret-scan.js';
import { ROOT, TetherProcess, readJsonIfExists, waitFor } from './support/tether-process.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string> };
// What the installed CLI opens besides node_modules: its bin, and the server bundle it uploads over
// SSH from beside the bin (agent/transports/ssh-bootstrap.ts loadRemoteBundle), Node runtimes when built.
const RUNTIME_FILES = [...Object.values(pkg.bin), 'dist/remote/tether.cjs'];
const ALWAYS_PACKED = ['package.json', 'README.md'];

const dir = tempDir('npm');
const src = join(dir, 'src');
const prefix = join(dir, 'prefix');
const bin = join(prefix, 'bin', 'tether');
const installed = join(prefix, 'lib', 'node_modules', pkg.name);
const serverHome = join(dir, 'server');
const laptopHome = join(dir, 'laptop');
const passphrase = randomBytes(12).toString('hex');
const apiKey = `sk-test-${randomBytes(16).toString('hex')}`;
const tokens: string[] = [];
let tarball: string;
let packed: string[];
let mock: MockProvider | undefined;
const running: TetherProcess[] = [];

/** npm with this user's cache and registry settings, none of the `npm test` run's own npm_* variables. */
function npm(args: string[], cwd: string, timeoutMs: number): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the installed `tether` (its bin link, through its shebang) to completion. */
async function tether(args: string[], home: string, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(bin, args, { env: userEnv(home), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A user's environment: node on PATH, nothing of this checkout. */
function userEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(bin)}:${dirname(process.execPath)}:/usr/bin:/bin`,
    HOME: dir,
    TETHER_HOME: home,
    TETHER_VAULT_PASSPHRASE: passphrase,
    TETHER_LOGIND: 'off',
  };
}

function start(args: string[], home: string, name: string): TetherProcess {
  const p = new TetherProcess(args, { home, bin, logFile: join(dir, `${name}.log`), env: userEnv(home) });
  running.push(p);
  return p;
}

beforeAll(() => {
  // A copy of the checkout as git sees it (tracked and new files), so the pack's own build
  // writes its dist/ there and never under the files other suites are running.
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const file of files) {
    // Deleted but not yet committed, or a worktree's node_modules link (a file to git).
    if (file === 'node_modules' || !existsSync(join(ROOT, file))) continue;
    mkdirSync(dirname(join(src, file)), { recursive: true });
    cpSync(join(ROOT, file), join(src, file));
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(src, 'node_modules'));
  const pack = npm(['pack', '--json', '--pack-destination', dir], src, 120_000);
  expect(pack.status, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, info!.filename);
  packed = info!.files.map((f) => f.path).sort();
}, 150_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGINT')));
  await mock?.close();
  removeDir(dir);
});

describe('npm pack', () => {
  it('builds dist/ and packs the files the CLI opens at run time, and nothing else', () => {
    const listed = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l && !l.endsWith('/'));
    expect(listed.map((l) => l.replace(/^package\//, '')).sort()).toEqual(packed);
    const runtimes = existsSync(join(src, 'dist/runtimes')) ? readdirSync(join(src, 'dist/runtimes'), { recursive: true, withFileTypes: true }) : [];
    const wanted = [...RUNTIME_FILES, ...runtimes.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(src.length + 1))];
    for (const file of wanted) expect(packed, `${file} is opened at run time`).toContain(file);
    expect(packed.filter((f) => !wanted.includes(f) && !ALWAYS_PACKED.includes(f))).toEqual([]);
  });
});

describe('npm install -g of the tarball', () => {
  beforeAll(() => {
    const r = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], dir, 240_000);
    expect(r.status, r.stderr).toBe(0);
  }, 250_000);

  it('installs the bin and its dependencies, without Electron', () => {
    expect(realpathSync(bin)).toBe(join(installed, pkg.bin.tether!));
    for (const dep of ['ws', 'ssh2', 'zod']) expect(existsSync(join(installed, 'node_modules', dep, 'package.json')), dep).toBe(true);
    expect(existsSync(join(installed, 'node_modules', 'electron'))).toBe(false);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'electron'))).toBe(false);
  });

  it('prints its help', async () => {
    const r = await tether(['--help'], laptopHome);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('tether creds add PROVIDER');
    expect(r.stdout).toContain('tether serve');
  });

  it('adds a credential to the file vault, serves, lends it over a Unix socket and relays a request', async () => {
    mock = await startMockProvider({ keys: { openai: apiKey, anthropic: `sk-ant-${randomBytes(8).toString('hex')}`, gemini: `AIza-${randomBytes(8).toString('hex')}` } });
    const add = await tether(['creds', 'add', 'openai', '--store', 'file', '--base-url', mock.url], laptopHome, `${apiKey}\n`);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toMatch(/^added openai \(OpenAI, file store/);
    expect(existsSync(join(laptopHome, 'vault.enc'))).toBe(true);

    const daemon = start(['serve', '--proxy-port', '0'], serverHome, 'daemon');
    const state = await waitFor(() => {
      const s = readJsonIfExists<{ pid: number; socket: string; proxyUrl: string }>(join(serverHome, 'run/daemon.json'));
      return s?.pid === daemon.pid ? s : undefined;
    }, 'daemon.json');
    const code = await tether(['pair-code', '--json'], serverHome);
    expect(code.code, code.stderr).toBe(0);
    const pair = (JSON.parse(code.stdout) as { code: string }).code;
    const agent = start(['agent', '--connect', `unix:${state.socket}`, '--pair', pair, '--approve', 'allow'], laptopHome, 'agent');
    await agent.waitForOutput(/paired with .*; lending openai/);

    const token = await tether(['token', 'openai'], serverHome);
    expect(token.code, token.stderr).toBe(0);
    tokens.push(token.stdout.trim());
    const res = await fetch(`${state.proxyUrl}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(mock.requests.at(-1)?.headers.authorization).toBe(`Bearer ${apiKey}`);

    await agent.stop('SIGINT');
    await daemon.stop('SIGTERM');
    expect(scanForSecrets([serverHome, join(dir, 'daemon.log'), join(dir, 'agent.log'), join(laptopHome, 'config.json')], [apiKey, ...tokens])).toEqual([]);
  });
});
