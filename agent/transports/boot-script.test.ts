// Both sides of the boot conversation, without SSH: the laptop's runBoot talks to the real boot
// script under /bin/sh, with a PATH of only the tools it uses. A stand-in node (a script that
// answers --version and hands the rest to this Node) and a stand-in bundle (prints what it was
// run with) keep it fast; test/node-runtime.e2e.test.ts does the same with the real ones over sshd.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../errors.js';
import { tempDir } from '../testing/temp.js';
import { bootScript, launcherScript } from './boot-script.js';
import { runBoot, type BootOutcome, type NodeRuntime, type RuntimeSource } from './boot-session.js';

const VERSION = 'v42.1.0';
const TOOLS = ['sh', 'cat', 'head', 'gzip', 'mv', 'chmod', 'mkdir', 'rm', 'sha256sum', 'uname', 'getconf', 'ldd', 'grep', 'readlink'];
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

let tmp: { dir: string; cleanup: () => void };
let bare: string;
let withNode: string;
let withOldNode: string;
let bundle: { bytes: Buffer; sha256: string };
let n = 0;

function toolDir(name: string, extra: Record<string, string> = {}): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  for (const tool of TOOLS) symlinkSync(['/usr/bin', '/bin'].map((d) => join(d, tool)).find((f) => existsSync(f))!, join(dir, tool));
  for (const [tool, target] of Object.entries(extra)) symlinkSync(target, join(dir, tool));
  return dir;
}

/** A stand-in node binary: prints `version` for --version, runs this Node (marked) for anything else. */
function fakeNode(version: string): Buffer {
  return Buffer.from(`#!/bin/sh\nif [ "$1" = --version ]; then echo ${version}; exit 0; fi\nTETHER_TEST_NODE=fake exec '${process.execPath}' "$@"\n`);
}

/** A runtime source holding one gzipped stand-in; `sha` may lie, as a damaged file would. */
function source(binary: Buffer, sha = sha256(binary)): RuntimeSource {
  const file = join(tmp.dir, `runtime-${++n}.gz`);
  writeFileSync(file, gzipSync(binary));
  const runtime: NodeRuntime = { version: VERSION, arch: 'x64', file, sha256: sha, bytes: statSync(file).size };
  return { version: VERSION, forArch: async (arch) => (arch === 'x64' ? runtime : undefined), fetchHint: (arch) => `fetch ${arch}` };
}

interface Answer {
  argv: string[];
  node: string | null;
}

/** One boot conversation against `home`, as a server whose PATH is `path`. */
async function boot(home: string, path: string, runtime: RuntimeSource, attach: 'attach' | 'answer' = 'answer'): Promise<BootOutcome & { answer: BootOutcome['answer'] & Answer }> {
  const script = bootScript({ remoteHome: home, runtimeVersion: VERSION, minNodeMajor: 18, attachArgs: ['attach', '--agent-key=K', '--agent-name=laptop'] });
  const child = spawn('/bin/sh', ['-c', script], { env: { PATH: path, HOME: tmp.dir }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  try {
    const out = await runBoot(child.stdout, child.stdin, { alias: 'box', bundle, minNodeMajor: 18, runtime, attach });
    return out as BootOutcome & { answer: BootOutcome['answer'] & Answer };
  } finally {
    child.stdin.end();
    child.kill();
  }
}

function files(home: string) {
  return { runtime: join(home, `runtime/node-${VERSION}/bin/node`), launcher: join(home, 'bin/tether'), bundle: join(home, 'bin/tether.cjs') };
}

function stamps(home: string) {
  return Object.fromEntries(Object.entries(files(home)).map(([k, f]) => [k, { ino: statSync(f).ino, mtimeMs: statSync(f).mtimeMs }]));
}

function temps(home: string): string[] {
  return ['bin', 'runtime'].flatMap((d) => (existsSync(join(home, d)) ? readdirSync(join(home, d)).filter((f) => f.includes('.tmp')) : []));
}

beforeAll(() => {
  tmp = tempDir();
  bare = toolDir('path-bare');
  withNode = toolDir('path-node', { node: process.execPath });
  const old = join(tmp.dir, 'old-node');
  writeFileSync(old, '#!/bin/sh\necho v16.20.2\n');
  chmodSync(old, 0o755);
  withOldNode = toolDir('path-old', { node: old });
  // Prints what it was run with, as `tether attach` prints its answer.
  const js = `const k=Buffer.alloc(32,7).toString("base64url");console.log(JSON.stringify({serverId:"box",serverKey:k,socket:"/tmp/x.sock",argv:process.argv.slice(2),node:process.env.TETHER_TEST_NODE||null}))\n`;
  bundle = { bytes: Buffer.from(js), sha256: sha256(js) };
});

afterAll(() => tmp.cleanup());

describe('boot conversation (laptop runBoot ↔ server boot script under sh)', () => {
  it('brings the runtime, the bundle and the launcher to a server without node; the attach runs on the runtime', async () => {
    const home = join(tmp.dir, 'h1');
    const out = await boot(home, bare, source(fakeNode(VERSION)));
    expect(out.probe).toMatchObject({ os: 'Linux', node: VERSION, bundle: '' });
    expect(out.probe.libc).toMatch(/^\d+\.\d+$/);
    expect(out.uploadedRuntime).toBe(VERSION);
    expect(out.uploadedBundle).toBe(true);
    expect(out.answer.argv).toEqual(['attach', '--agent-key=K', '--agent-name=laptop']);
    expect(out.answer.node).toBe('fake');
    const f = files(home);
    expect(readFileSync(f.runtime)).toEqual(fakeNode(VERSION));
    expect(readFileSync(f.bundle)).toEqual(bundle.bytes);
    expect(readFileSync(f.launcher, 'utf8')).toBe(launcherScript(VERSION).join('\n') + '\n');
    for (const file of Object.values(f)) expect(statSync(file).mode & 0o777).toBe(0o700);
    expect(temps(home)).toEqual([]);

    // Again: the probe names the runtime and the bundle's hash; nothing is sent or rewritten.
    const before = stamps(home);
    const again = await boot(home, bare, source(fakeNode(VERSION)), 'attach');
    expect(again.probe).toMatchObject({ node: VERSION, bundle: bundle.sha256 });
    expect(again.uploadedRuntime).toBeUndefined();
    expect(again.uploadedBundle).toBe(false);
    expect(again.answer.argv.at(-1)).toBe('--stdio');
    expect(stamps(home)).toEqual(before);
  });

  it('refuses a runtime that arrives damaged: nothing put in place, no temp file left', async () => {
    const home = join(tmp.dir, 'h2');
    const err = await boot(home, bare, source(fakeNode(VERSION), 'ab'.repeat(32))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('server-setup');
    expect((err as Error).message).toMatch(/^box: the Node runtime arrived damaged \(its sha256 is [0-9a-f]{64}\)$/);
    expect(existsSync(files(home).runtime)).toBe(false);
    expect(temps(home)).toEqual([]);
  });

  it('refuses a runtime that does not run as the pinned version', async () => {
    const home = join(tmp.dir, 'h3');
    const err = await boot(home, bare, source(fakeNode('v0.0.1'))).catch((e: unknown) => e);
    expect((err as AgentError).code).toBe('server-setup');
    expect((err as Error).message).toBe('box: the Node runtime does not run here');
    expect(existsSync(files(home).runtime)).toBe(false);
    expect(temps(home)).toEqual([]);
  });

  it('uses node 18+ from PATH and brings nothing; an older node gets the runtime', async () => {
    const onPath = await boot(join(tmp.dir, 'h4'), withNode, source(fakeNode(VERSION)));
    expect(onPath.uploadedRuntime).toBeUndefined();
    expect(onPath.probe.node).toBe(process.version);
    expect(onPath.answer.node).toBeNull();
    const old = await boot(join(tmp.dir, 'h5'), withOldNode, source(fakeNode(VERSION)));
    expect(old.uploadedRuntime).toBe(VERSION);
    expect(old.answer.node).toBe('fake');
  });

  it('the launcher runs the bundle with the runtime, through a symlink too, else with node from PATH, else says what to do', () => {
    const home = join(tmp.dir, 'h1');
    const { launcher, runtime } = files(home);
    const run = (file: string, path: string) => spawnSync(file, ['status', '--json'], { env: { PATH: path, HOME: tmp.dir }, encoding: 'utf8' });
    const direct = run(launcher, bare);
    expect(direct.status, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout)).toMatchObject({ argv: ['status', '--json'], node: 'fake' });
    const links = join(tmp.dir, 'links');
    mkdirSync(links);
    symlinkSync(launcher, join(links, 'tether'));
    expect(JSON.parse(run(join(links, 'tether'), bare).stdout)).toMatchObject({ node: 'fake' });

    rmSync(runtime);
    expect(JSON.parse(run(launcher, withNode).stdout)).toMatchObject({ argv: ['status', '--json'], node: null });
    const none = run(launcher, bare);
    expect(none.status).toBe(127);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr.trim()).toMatch(/^tether: no Node here .*install Node 18 or later$/);
  });
});
