import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const require = createRequire(join(ROOT, 'package.json'));
const config = JSON.parse(readFileSync(join(ROOT, 'build/electron-builder.json'), 'utf8')) as Record<string, Record<string, unknown>>;

function pngSize(file: string): [number, number] {
  const b = readFileSync(file);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

/** Electron's binary, which `npm install` does not fetch (allowScripts): only the package's types. */
function electronBinaryInstalled(): boolean {
  try {
    const dir = dirname(require.resolve('electron/package.json'));
    return existsSync(join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim()));
  } catch {
    return false;
  }
}

describe('electron-builder config', () => {
  it('is valid against electron-builder\'s own schema', () => {
    // The same JSON schema electron-builder checks a configuration with before building.
    const Ajv = require('ajv') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] } };
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, schemaId: 'auto' }).compile(schema);
    expect(validate(config), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('targets dmg (hardened runtime, entitlements), nsis, AppImage and deb; packages the app folder, addons rebuilt for Electron and unpacked', () => {
    expect(config.mac).toMatchObject({ target: ['dmg'], hardenedRuntime: true });
    expect(existsSync(join(ROOT, config.mac!.entitlements as string))).toBe(true);
    expect(config.win).toMatchObject({ target: ['nsis'] });
    expect(config.linux).toMatchObject({ target: ['AppImage', 'deb'], executableName: 'tether-app' });
    // build/app.mjs makes this folder; test/app-package.e2e.test.ts checks what ends up packaged.
    expect(config.directories).toMatchObject({ app: 'dist/electron' });
    expect(config.npmRebuild).toBe(true);
    expect(config.asarUnpack).toEqual(['**/*.node']);
  });

  it('the .deb links /usr/bin/tether to the app\'s command line, and its scripts are valid shell', () => {
    expect(config.deb).toMatchObject({ afterInstall: 'build/linux/after-install.tpl', afterRemove: 'build/linux/after-remove.tpl' });
    expect(config.linux!.extraResources).toEqual([{ from: 'build/linux/tether', to: 'bin/tether' }]);
    for (const tpl of ['build/linux/after-install.tpl', 'build/linux/after-remove.tpl']) {
      // electron-builder fills these two in; the rest of the script must parse as bash.
      const script = readFileSync(join(ROOT, tpl), 'utf8').replaceAll('${sanitizedProductName}', 'Tether').replaceAll('${executable}', 'tether-app');
      const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
      expect(r.status, `${tpl}: ${r.stderr}`).toBe(0);
    }
    expect(readFileSync(join(ROOT, 'build/linux/after-install.tpl'), 'utf8')).toContain("'/opt/${sanitizedProductName}/resources/bin/tether' '/usr/bin/tether'");
  });

  it('ships icons at the sizes each platform needs, tray template images for macOS', () => {
    expect(pngSize(join(ROOT, 'build/icons/icon.png'))).toEqual([1024, 1024]); // icns and ico are made from it
    for (const size of [16, 32, 48, 64, 128, 256, 512]) expect(pngSize(join(ROOT, `build/icons/${size}x${size}.png`))).toEqual([size, size]);
    for (const state of ['idle', 'lending', 'attention']) {
      for (const name of [`tray-${state}`, `tray-${state}Template`]) {
        expect(pngSize(join(ROOT, `build/icons/${name}.png`))).toEqual([16, 16]);
        expect(pngSize(join(ROOT, `build/icons/${name}@2x.png`))).toEqual([32, 32]);
      }
    }
  });

  it.skipIf(electronBinaryInstalled())('`npm run dist` without Electron\'s binary prints one line and exits non-zero', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'build/dist.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Electron's binary is not installed/);
  });
});
