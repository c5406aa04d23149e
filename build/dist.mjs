// `npm run dist`: the tray app packaged for this platform with electron-builder. Needs Electron's
// binary (an optional dependency whose download can fail); without it, one line and exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function electronBinary() {
  try {
    const dir = dirname(require.resolve('electron/package.json'));
    const rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
    return existsSync(join(dir, 'dist', rel)) ? join(dir, 'dist', rel) : undefined;
  } catch {
    return undefined;
  }
}

if (!electronBinary()) {
  console.error("tether dist: Electron's binary is not installed (optional dependency; its download failed or was skipped), so the tray app cannot be packaged here: run `npm install electron` where it can be downloaded");
  process.exit(1);
}

const common = { bundle: true, platform: 'node', target: 'node20', external: ['electron', 'keytar'], logLevel: 'warning', absWorkingDir: root };
await esbuild({ ...common, entryPoints: ['electron/main.ts'], format: 'esm', outfile: 'dist/electron/main.mjs', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
await esbuild({ ...common, entryPoints: ['electron/preload.ts'], format: 'cjs', platform: 'browser', outfile: 'dist/electron/preload.cjs' });
const vite = spawnSync(process.execPath, [require.resolve('vite/bin/vite.js'), 'build', '--config', 'build/vite.renderer.config.ts'], { cwd: root, stdio: 'inherit' });
if (vite.status !== 0) process.exit(vite.status ?? 1);
const builder = spawnSync(process.execPath, [require.resolve('electron-builder/cli.js'), '--config', 'build/electron-builder.json', '--publish', 'never', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(builder.status ?? 1);
