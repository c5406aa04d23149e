// `npm run dist`: the tray app packaged for this platform with electron-builder (dmg, nsis,
// AppImage + deb), from the app folder build/app.mjs makes (dist/electron/: every file the app
// opens, laid out as it runs). Needs Electron's binary, which `npm install` does not fetch
// (allowScripts: the electron package installs for its types only); without it, one line, exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stageApp } from './app.mjs';

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
  console.error("tether dist: Electron's binary is not installed (npm installs the electron package without its download), so the tray app cannot be packaged here: run `node node_modules/electron/install.js` where github.com is reachable, then `npm run dist` again");
  process.exit(1);
}

const { packages, ms } = await stageApp();
console.error(`tether dist: app folder dist/electron/ made in ${ms} ms (native packages and their dependencies: ${packages.length})`);
// electron-builder rebuilds keytar and cpu-features for Electron inside dist/electron/node_modules,
// never in the checkout's node_modules (which stays built for Node, for the CLI and the tests).
const builder = spawnSync(process.execPath, [require.resolve('electron-builder/cli.js'), '--config', 'build/electron-builder.json', '--publish', 'never', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(builder.status ?? 1);
