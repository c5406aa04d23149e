// What `npm run dist` packages, checked: electron-builder (the pinned one, our config) makes the
// Linux app folder (`--dir`) against a placeholder Electron distribution; the app then runs from
// its package (the asar extracted beside it, the Electron double playing Electron), and every
// file it opened from its folder (modules, .node addons, preload, renderer, icons, the server
// bundle the SSH bootstrap uploads) must be inside the asar, a .node file unpacked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { artefactPath } from '../agent/artefacts.js';
import { builtAppFolder } from './support/app-folder.js';
import { ElectronApp } from './support/electron-double/driver.js';
import { SshWorld } from './support/ssh-world.js';
import { sshdAvailable } from './support/sshd.js';
import { ROOT, waitFor } from './support/tether-process.js';

const require = createRequire(join(ROOT, 'package.json'));
const asar = require('@electron/asar') as {
  listPackage(archive: string, options?: object): string[];
  statFile(archive: string, file: string): { unpacked?: boolean; files?: object };
  extractAll(archive: string, dest: string): void;
};

let w: SshWorld;
let stagedDir: string;
let resources: string;
let extracted: string;
/** Files (not folders) in app.asar, relative, with whether each is unpacked. */
const packaged = new Map<string, boolean>();
let opened: { path: string; ok: boolean }[] = [];
const timings: Record<string, number> = {};

/**
 * Electron as electron-builder expects to find it (an unpacked distribution) with a placeholder
 * binary. Run as Node (ELECTRON_RUN_AS_NODE=1), as the shipped `tether` launcher does, it runs the
 * script with node, reading `…/app.asar/x` from the asar's extraction beside it (node has no asar).
 */
function placeholderElectron(dir: string): string {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  mkdirSync(join(dir, 'locales'));
  writeFileSync(join(dir, 'locales/en-US.pak'), '');
  writeFileSync(join(dir, 'LICENSE'), 'placeholder\n');
  writeFileSync(join(dir, 'chrome-sandbox'), '');
  const script = [
    '#!/bin/sh',
    '[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo "placeholder Electron: only ELECTRON_RUN_AS_NODE=1 runs here" >&2; exit 1; }',
    'script=$1; shift',
    'case "$script" in */app.asar/*) script="${script%%/app.asar/*}/app.asar.extracted/${script#*/app.asar/}" ;; esac',
    `exec '${process.execPath}' "$script" "$@"`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'electron'), script);
  chmodSync(join(dir, 'electron'), 0o755);
  return dir;
}

describe.skipIf(!sshdAvailable)('the packaged app (electron-builder --dir, placeholder Electron)', () => {
  beforeAll(async () => {
    let t = Date.now();
    w = await SshWorld.create('allow');
    const root = w.world.root;
    let box: Awaited<ReturnType<SshWorld['sshd']>>;
    [stagedDir, box] = await Promise.all([builtAppFolder(), w.sshd('box')]);
    w.trust(box);
    w.writeConfig([{ alias: 'gpu', sshd: box }]);
    timings.stage = Date.now() - t;

    t = Date.now();
    const out = join(root, 'packages');
    const electronVersion = (JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string }).version;
    // npmRebuild off: rebuilding the addons for Electron needs Electron's headers (a download);
    // the addons stay built for Node, which is what runs the packaged app here.
    const builder = spawnSync(
      process.execPath,
      [require.resolve('electron-builder/cli.js'), '--linux', 'dir', '--config', 'build/electron-builder.json', `-c.directories.app=${stagedDir}`, `-c.directories.output=${out}`, `-c.electronDist=${placeholderElectron(join(root, 'electron-dist'))}`, `-c.electronVersion=${electronVersion}`, '-c.npmRebuild=false', '--publish', 'never'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } },
    );
    expect(builder.status, builder.stdout + builder.stderr).toBe(0);
    timings.electronBuilder = Date.now() - t;

    resources = join(out, 'linux-unpacked/resources');
    const archive = join(resources, 'app.asar');
    for (const f of asar.listPackage(archive)) {
      const stat = asar.statFile(archive, f.slice(1));
      if (!stat.files) packaged.set(f.slice(1), !!stat.unpacked);
    }
    extracted = join(resources, 'app.asar.extracted');
    asar.extractAll(archive, extracted);
  }, 120_000);

  afterAll(async () => {
    if (!w) return;
    w.stopServerDaemon();
    expect(w.world.leaks()).toEqual([]);
    await w.dispose();
    console.log('app-package e2e timings (ms):', JSON.stringify(timings));
  });

  it('holds the app, its CLI and the server bundle where the one loader looks; the Linux folder has tether-app and resources/bin/tether', () => {
    const manifest = JSON.parse(readFileSync(join(extracted, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };
    expect(manifest.main).toBe('main.mjs');
    for (const f of ['main.mjs', 'tether.mjs', 'preload.cjs', 'renderer/index.html', 'icons/tray-idle.png', 'node_modules/ssh2/lib/index.js']) expect(packaged.has(f), f).toBe(true);
    // agent/artefacts.ts, asked as the packaged main.mjs would ask it: the server bundle is there.
    const asarMain = pathToFileURL(join(resources, 'app.asar/main.mjs')).href;
    expect(relative(join(resources, 'app.asar'), artefactPath('server-bundle', {}, asarMain))).toBe('remote/tether.cjs');
    expect(packaged.has('remote/tether.cjs'), 'remote/tether.cjs').toBe(true);
    // Node runtimes for Node-less servers ship when a build step has left them in dist/runtimes/.
    expect(relative(join(resources, 'app.asar'), artefactPath('node-runtimes', {}, asarMain))).toBe('runtimes');
    const runtimes = join(ROOT, 'dist/runtimes');
    if (existsSync(runtimes)) for (const f of readdirSync(runtimes)) expect(packaged.has(`runtimes/${f}`), `runtimes/${f}`).toBe(true);
    expect(readFileSync(join(extracted, 'remote/tether.cjs')).equals(readFileSync(join(ROOT, 'dist/remote/tether.cjs')))).toBe(true);
    // Only what runs: no Electron package, no build tools, no other copy of what main.mjs bundles.
    const packages = new Set([...packaged.keys()].filter((f) => f.startsWith('node_modules/')).map((f) => f.split('/')[1]));
    for (const p of ['electron', 'electron-builder', 'vite', 'react', 'zod', 'ws', 'playwright-core']) expect(packages.has(p), p).toBe(false);
    for (const [f, unpacked] of packaged) if (f.endsWith('.node')) expect(unpacked, `${f} unpacked`).toBe(true);
    expect(statSync(join(resources, '../tether-app')).mode & 0o111).not.toBe(0);
    expect(statSync(join(resources, 'bin/tether')).mode & 0o111).not.toBe(0);
  });

  it('runs from its package: the tray lists ~/.ssh/config, the window renders, Connect goes over SSH, `tether` answers through resources/bin/tether, Quit exits 0', async () => {
    const t = Date.now();
    const log = join(w.world.root, 'opened.jsonl');
    writeFileSync(log, '');
    const doubleDir = join(w.world.root, 'double');
    mkdirSync(doubleDir);
    const env = { ...w.env, TETHER_HOME: w.world.laptopHome, TETHER_SSH: 'builtin', TETHER_OPENED_FILES: log };
    const app = await ElectronApp.start({ appDir: extracted, dir: doubleDir, env, logFile: w.world.logFile('packaged-app'), imports: [join(ROOT, 'test/support/opened-files.mjs')] });
    let seen: { url: string; ok: boolean }[] = [];
    try {
      await waitFor(async () => (await app.menuLabels()).includes('gpu — disconnected') || undefined, 'gpu in the tray menu');
      expect((await app.ask('tray'))[0]).toMatchObject({ image: join(extracted, 'icons/tray-idle.png'), imageLoaded: true });
      await app.ask('click', ['Open Tether']);
      const page = await app.page('servers');
      await page.locator('li.card[data-server="gpu"]').waitFor();
      await app.ask('click', ['gpu — ', 'Connect']);
      await waitFor(async () => (await app.menuLabels()).includes('gpu — connected') || undefined, 'gpu connected', 20_000);
      const cli = spawnSync(join(resources, 'bin/tether'), ['status', '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
      expect(cli.status, cli.stderr).toBe(0);
      expect((JSON.parse(cli.stdout) as { agent: { servers: unknown[] } }).agent.servers).toEqual([expect.objectContaining({ server: 'gpu', state: 'READY' })]);
      seen = await app.ask('rendererRequests');
      await app.ask('click', ['Quit Tether']).catch(() => {});
      expect(await app.exited).toEqual({ code: 0, signal: null });
    } finally {
      // Kept even when a step failed: the next test says which file the package lacked.
      if (!seen.length) seen = await app.ask('rendererRequests').catch(() => []);
      await app.stop();
      opened = [
        ...readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { path: string; ok: boolean }),
        ...seen.map((r) => ({ path: decodeURIComponent(new URL(r.url).pathname), ok: r.ok })),
      ];
    }
    timings.run = Date.now() - t;
  });

  it('every file the app opened from its folder is in the package, each .node unpacked', () => {
    const inApp = opened.filter((o) => o.path.startsWith(extracted + sep)).map((o) => ({ ...o, rel: relative(extracted, o.path) }));
    const rels = new Set(inApp.map((o) => o.rel));
    // Opened or missed: a file the app folder has but the package lacks is a packaging bug.
    const missing = inApp.filter((o) => !packaged.has(o.rel) && existsSync(join(stagedDir, o.rel)) && statSync(join(stagedDir, o.rel)).isFile());
    expect([...new Set(missing.map((o) => o.rel))]).toEqual([]);
    // The recorder saw the app at work: modules, addons, preload, renderer, server bundle.
    for (const f of ['main.mjs', 'preload.cjs', 'renderer/index.html', 'remote/tether.cjs', 'node_modules/ssh2/lib/index.js', 'icons/tray-idle.png']) expect(rels.has(f), `${f} opened`).toBe(true);
    expect([...rels].some((f) => /^renderer\/assets\/.+\.js$/.test(f))).toBe(true);
    expect([...rels].some((f) => f.endsWith('.node'))).toBe(true);
    const failed = inApp.filter((o) => !o.ok && packaged.has(o.rel));
    expect(failed.map((o) => o.rel)).toEqual([]);
    for (const o of inApp) if (o.rel.endsWith('.node') && packaged.has(o.rel)) expect(packaged.get(o.rel), `${o.rel} unpacked`).toBe(true);
  });
});
