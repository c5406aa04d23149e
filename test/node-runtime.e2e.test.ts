// Servers without Node (issue 11), against a real sshd whose logins see a PATH with no `node`
// (sshd_config SetEnv PATH=…, a folder of the few tools the boot script uses): the laptop
// brings the pinned runtime once (dist/runtimes, as the build makes it), the daemon runs on
// it, `tether exec` works there through $H/bin/tether, a second connect uploads nothing —
// over the user's OpenSSH and over the built-in client. A musl or too-old glibc, or an
// architecture this laptop has no runtime for, gets one line and no upload.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedRuntime, PINNED_NODE_VERSION } from '../agent/runtime/pinned-node.js';
import { scanForSecrets } from './support/secret-scan.js';
import { sshdAvailable } from './support/sshd.js';
import { SshWorld } from './support/ssh-world.js';
import { ROOT, SERVER_BIN, readJsonIfExists, waitFor } from './support/tether-process.js';
import type { DaemonState } from './support/world.js';

const run = promisify(execFile);
const CLIENT = join(ROOT, 'test/clients/sdk-client.mjs');
const SHIPPED = join(ROOT, `dist/runtimes/node-${PINNED_NODE_VERSION}-linux-x64.gz`);
// The build makes it when npm fetched the pinned package (`npm ci --prefix build/node-runtime-x64`; .ci/run does).
const haveRuntime = process.platform === 'linux' && process.arch === 'x64' && existsSync(SHIPPED);
if (!haveRuntime) console.warn(`node-runtime.e2e: no ${SHIPPED}: the upload cases skip (run \`npm ci --prefix build/node-runtime-x64 && npm run build\`)`);

/** What the boot script and the launcher call, and nothing else: no node. */
const TOOLS = ['sh', 'cat', 'head', 'gzip', 'mv', 'chmod', 'mkdir', 'rm', 'sha256sum', 'uname', 'getconf', 'ldd', 'grep', 'readlink'];
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let w: SshWorld;
const homes: Record<string, string> = {};

/** A folder of symlinks to the real tools, with some replaced by the fakes given. */
function toolDir(name: string, fakes: Record<string, string> = {}): string {
  const dir = join(w.world.root, `path-${name}`);
  mkdirSync(dir);
  for (const tool of TOOLS) {
    if (fakes[tool]) {
      writeFileSync(join(dir, tool), `#!/bin/sh\n${fakes[tool]}\n`);
      chmodSync(join(dir, tool), 0o755);
    } else {
      const real = ['/usr/bin', '/bin', '/usr/sbin'].map((d) => join(d, tool)).find((f) => existsSync(f));
      if (!real) throw new Error(`no ${tool} on this machine`);
      symlinkSync(real, join(dir, tool));
    }
  }
  return dir;
}

/** A command run on the server the way its user would: `ssh ALIAS 'command'`, with that account's PATH. */
async function onServer(alias: string, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(w.sshWrapper, [alias, command], { env: { ...process.env, ...w.env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function daemonOf(home: string): DaemonState | undefined {
  return readJsonIfExists<DaemonState>(join(home, 'run/daemon.json'));
}

function stopDaemon(home: string): void {
  const s = daemonOf(home);
  if (!s) return;
  try {
    process.kill(s.pid, 'SIGTERM');
  } catch {
    // gone already
  }
}

function filesOf(home: string) {
  const runtime = join(home, `runtime/node-${PINNED_NODE_VERSION}/bin/node`);
  return { runtime, launcher: join(home, 'bin/tether'), bundle: join(home, 'bin/tether.cjs') };
}

const stamp = (file: string) => {
  const s = statSync(file);
  return { ino: s.ino, mtimeMs: s.mtimeMs };
};

/** Connects, lends, runs the official SDK through `tether exec` on the server, disconnects, connects again. */
async function uploadOnceAndUse(alias: string, transport: 'openssh' | 'builtin'): Promise<void> {
  const home = homes[alias]!;
  const { runtime, launcher, bundle } = filesOf(home);
  const nodeless = await onServer(alias, 'command -v node');
  expect(nodeless.code, `node on ${alias}'s PATH: ${nodeless.stdout}`).not.toBe(0);

  const started = Date.now();
  const agent = w.startAgent(['--connect', alias, '--ssh', transport]);
  await agent.waitForOutput(new RegExp(`connected to ${alias}`), 90_000);
  const firstMs = Date.now() - started;
  const brought = agent.text.match(new RegExp(`${alias} has no Node 18\\+: bringing Node ${PINNED_NODE_VERSION.replace(/\./g, '\\.')} for linux-x64 \\(\\d+\\.\\d MB, once per version\\) to ${home}/runtime`, 'g'));
  expect(brought, agent.text).toHaveLength(1);
  expect(agent.text).toMatch(new RegExp(`installed tether on ${alias}`));

  // In place, whole and private: the pinned binary, the launcher, the bundle; no temp file left.
  expect(sha256(runtime)).toBe(pinnedRuntime('x64').sha256);
  expect(statSync(runtime).mode & 0o777).toBe(0o700);
  expect(readFileSync(launcher, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
  expect(statSync(launcher).mode & 0o777).toBe(0o700);
  expect(sha256(bundle)).toBe(sha256(SERVER_BIN));
  for (const dir of [join(home, 'bin'), join(home, 'runtime')]) expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);

  // The daemon runs on the runtime.
  const daemon = await waitFor(() => daemonOf(home), `daemon on ${alias}`);
  expect(readlinkSync(`/proc/${daemon.pid}/exe`)).toBe(runtime);

  // A user there runs `tether exec` through $H/bin/tether (no node on their PATH); the tool is the official SDK, on the same runtime.
  const exec = await onServer(alias, `TETHER_HOME='${home}' '${launcher}' exec --provider openai -- '${runtime}' '${CLIENT}' openai plain`);
  expect(exec.code, exec.stderr + exec.stdout).toBe(0);
  expect(JSON.parse(exec.stdout.trim().split('\n').at(-1)!).text).toMatch(/Hello from the mock provider/);
  expect(w.world.mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${w.world.keys.openai}`);
  const status = await onServer(alias, `TETHER_HOME='${home}' '${launcher}' status --json`);
  expect(status.code, status.stderr).toBe(0);
  await agent.stop();

  // Again: nothing goes up, nothing is rewritten, the same daemon is reused.
  const before = { runtime: stamp(runtime), launcher: stamp(launcher), bundle: stamp(bundle) };
  const again = w.startAgent(['--connect', alias, '--ssh', transport]);
  const restarted = Date.now();
  await again.waitForOutput(new RegExp(`connected to ${alias}`), 30_000);
  const secondMs = Date.now() - restarted;
  expect(again.text).not.toMatch(/bringing Node|installed tether/);
  expect({ runtime: stamp(runtime), launcher: stamp(launcher), bundle: stamp(bundle) }).toEqual(before);
  expect(daemonOf(home)!.pid).toBe(daemon.pid);
  await again.stop();
  console.log(`node-runtime.e2e: ${transport}: first connect (runtime + bundle up) ${firstMs} ms, second ${secondMs} ms`);
}

describe.skipIf(!sshdAvailable)('servers without Node (real sshd, no node on PATH)', () => {
  beforeAll(async () => {
    w = await SshWorld.create();
    const musl = { getconf: 'exit 1', ldd: 'echo "musl libc (x86_64)" >&2; echo "Version 1.2.4" >&2; exit 1' };
    const oldGlibc = { getconf: '[ "$1" = GNU_LIBC_VERSION ] && { echo "glibc 2.17"; exit 0; }; exec /usr/bin/getconf "$@"' };
    const arm = { uname: 'case "$1" in -m) echo aarch64 ;; *) exec /usr/bin/uname "$@" ;; esac' };
    const plain = await w.sshd('plain', { extra: [`SetEnv PATH=${toolDir('plain')}`] });
    const muslBox = await w.sshd('musl', { extra: [`SetEnv PATH=${toolDir('musl', musl)}`] });
    const oldBox = await w.sshd('old', { extra: [`SetEnv PATH=${toolDir('old', oldGlibc)}`] });
    const armBox = await w.sshd('arm', { extra: [`SetEnv PATH=${toolDir('arm', arm)}`] });
    for (const s of [plain, muslBox, oldBox, armBox]) w.trust(s);
    homes.bare = w.world.serverHome;
    for (const name of ['bare-builtin', 'musl', 'old', 'arm']) homes[name] = join(w.world.root, `server-${name}`);
    const own = (alias: string) => ({ serverHome: false, extra: [`SetEnv TETHER_HOME=${homes[alias]}`] });
    w.writeConfig([
      { alias: 'bare', sshd: plain },
      { alias: 'bare-builtin', sshd: plain, ...own('bare-builtin') },
      { alias: 'musl', sshd: muslBox, ...own('musl') },
      { alias: 'old', sshd: oldBox, ...own('old') },
      { alias: 'arm', sshd: armBox, ...own('arm') },
    ]);
  });

  afterAll(async () => {
    if (!w) return;
    await w.world.agent?.stop();
    for (const home of Object.values(homes)) stopDaemon(home);
    await waitFor(() => Object.values(homes).every((h) => !daemonOf(h)) || undefined, 'daemons gone', 5000).catch(() => undefined);
    // Nothing secret on the servers' disks (their TETHER_HOMEs, daemon logs) or in any log.
    expect(w.world.leaks()).toEqual([]);
    expect(scanForSecrets(Object.values(homes), Object.values(w.world.keys))).toEqual([]);
    await w.dispose();
  });

  it.skipIf(!haveRuntime)('OpenSSH: uploads the runtime once, the daemon and `tether exec` run on it, a second connect uploads nothing', async () => {
    await uploadOnceAndUse('bare', 'openssh');
  }, 180_000);

  it.skipIf(!haveRuntime)('built-in client: the same conversation, the same result', async () => {
    await uploadOnceAndUse('bare-builtin', 'builtin');
  }, 180_000);

  it('`tether runtime list` says what this laptop has and what to run for the rest', async () => {
    const r = await w.world.laptop(['runtime', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { version: string; cache: string; runtimes: { arch: string; state: string; file?: string; where?: string }[] };
    expect(listed.version).toBe(PINNED_NODE_VERSION);
    expect(listed.cache).toBe(join(w.world.laptopHome, 'runtimes'));
    expect(listed.runtimes.find((x) => x.arch === 'arm64')).toMatchObject({ state: 'missing' });
    if (haveRuntime) expect(listed.runtimes.find((x) => x.arch === 'x64')).toMatchObject({ state: 'ok', file: SHIPPED, where: 'shipped' });
    const text = await w.world.laptop(['runtime', 'list']);
    expect(text.stdout).toContain('linux-arm64  missing: run `tether runtime fetch --arch arm64`');
  });

  const refusals: [alias: string, transport: 'openssh' | 'builtin', line: RegExp][] = [
    ['musl', 'openssh', /^tether: musl has no `node` on its PATH and a musl libc \(Alpine\?\), where the Node runtime tether brings cannot run: install Node 18\+ there/],
    ['musl', 'builtin', /^tether: musl has no `node` on its PATH and a musl libc/],
    ['old', 'openssh', /^tether: old has no `node` on its PATH and glibc 2\.17; the Node runtime tether brings needs glibc 2\.28 or later/],
    [
      'arm',
      'openssh',
      /^tether: arm has no `node` on its PATH and this laptop has no Node runtime for linux-arm64 to bring: run `tether runtime fetch --arch arm64` on this laptop, then connect again/,
    ],
  ];
  // Where the build has no x64 runtime, a Node-less x64 server gets the same line for x64.
  if (!haveRuntime) refusals.push(['bare', 'openssh', /^tether: bare has no `node` on its PATH and this laptop has no Node runtime for linux-x64 to bring: run `tether runtime fetch --arch x64`/]);
  for (const [alias, transport, line] of refusals) {
    it(`${alias} over ${transport}: one line, nothing uploaded`, async () => {
      const r = await w.world.laptop(['agent', '--connect', alias, '--approve', 'allow', '--ssh', transport], { env: w.env });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(line);
      expect(existsSync(join(homes[alias]!, 'runtime')), 'a runtime went up').toBe(false);
      expect(existsSync(join(homes[alias]!, 'bin')), 'the bundle went up').toBe(false);
    }, 60_000);
  }
});
