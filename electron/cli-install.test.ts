import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliInstallError, LAUNCHER_MARK, defaultCliFolders, installCli, launcherScript } from './cli-install.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup() {
  dir = mkdtempSync(join(tmpdir(), 'cli-install-'));
  const bin = join(dir, 'home/.local/bin');
  // A stand-in for the app's Electron: as Node when ELECTRON_RUN_AS_NODE=1, as the app otherwise.
  const electron = join(dir, "Tether's app/tether-app");
  mkdirSync(join(dir, "Tether's app"));
  writeFileSync(electron, `#!/bin/sh\n[ "$ELECTRON_RUN_AS_NODE" = 1 ] || { echo "started the GUI" >&2; exit 9; }\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
  const cli = join(dir, "Tether's app/tether.mjs");
  writeFileSync(cli, 'console.log(JSON.stringify(process.argv.slice(2)));\n');
  return { bin, target: { electron, cli }, env: { PATH: `${bin}:/usr/bin` }, homeDir: join(dir, 'home') };
}

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof CliInstallError ? err.code : String(err);
  }
  return undefined;
};

describe('Install command line tool', () => {
  it('writes a launcher that runs the app\'s CLI with its Electron as Node, arguments intact', () => {
    const s = setup();
    const done = installCli({ target: s.target, platform: 'linux', homeDir: s.homeDir, env: s.env });
    expect(done).toEqual({ path: join(s.bin, 'tether'), onPath: true });
    expect(statSync(done.path).mode & 0o777).toBe(0o755);
    expect(readFileSync(done.path, 'utf8').split('\n')[1]).toContain(LAUNCHER_MARK);
    const r = spawnSync(done.path, ['status', "it's", '--json', ''], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(['status', "it's", '--json', '']);
  });

  it('replaces its own launcher (the app moved) but never a `tether` it did not write', () => {
    const s = setup();
    installCli({ target: s.target, platform: 'linux', homeDir: s.homeDir, env: s.env });
    const moved = { ...s.target, cli: '/Applications/Tether.app/Contents/Resources/app.asar/tether.mjs' };
    installCli({ target: moved, platform: 'darwin', homeDir: s.homeDir, env: s.env });
    expect(readFileSync(join(s.bin, 'tether'), 'utf8')).toBe(launcherScript(moved));
    writeFileSync(join(s.bin, 'tether'), '#!/usr/bin/env node\nimport("../lib/node_modules/tether/dist/tether.js")\n');
    expect(code(() => installCli({ target: s.target, platform: 'linux', homeDir: s.homeDir, env: s.env }))).toBe('not-ours');
    expect(readFileSync(join(s.bin, 'tether'), 'utf8')).toContain('node_modules/tether');
  });

  it('says when the folder is not on PATH, and refuses where no launcher can work', () => {
    const s = setup();
    expect(installCli({ target: s.target, platform: 'linux', homeDir: s.homeDir, env: { PATH: '/usr/bin' }, folders: [s.bin] }).onPath).toBe(false);
    expect(code(() => installCli({ target: s.target, platform: 'win32', homeDir: s.homeDir, env: s.env }))).toBe('unsupported');
    expect(code(() => installCli({ target: s.target, platform: 'linux', homeDir: s.homeDir, env: { ...s.env, APPIMAGE: '/home/me/Tether.AppImage' } }))).toBe('unsupported');
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    // root writes anywhere: the refusal is only observable for other users.
    if (process.getuid?.() !== 0) expect(code(() => installCli({ target: s.target, platform: 'linux', homeDir: s.homeDir, env: s.env, folders: [locked, join(locked, 'sub')] }))).toBe('no-folder');
  });

  it('prefers ~/.local/bin when it is on PATH, else /usr/local/bin, then ~/.local/bin', () => {
    expect(defaultCliFolders('/home/me', { PATH: '/home/me/.local/bin:/usr/bin' })).toEqual(['/home/me/.local/bin']);
    expect(defaultCliFolders('/home/me', { PATH: '/usr/bin' })).toEqual(['/usr/local/bin', '/home/me/.local/bin']);
  });
});
