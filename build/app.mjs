// The tray app's folder, dist/electron/: everything the packaged app runs, laid out as it runs.
// `npm run dist` (build/dist.mjs) hands this folder to electron-builder as the app; the tests run
// its main.mjs with the Electron double. No Electron is needed to make it.
//
//   package.json   name, version, main: main.mjs, the two native packages it needs
//   main.mjs       electron/main.ts, bundled (all but electron, keytar, ssh2)
//   tether.mjs     the laptop CLI (build/entries/tether.ts), bundled the same way: the app's `tether`
//   preload.cjs    electron/preload.ts (sandboxed: nothing but `require('electron')`)
//   renderer/      the UI (vite)
//   icons/         tray icons
//   remote/tether.cjs, runtimes/   what the SSH bootstrap uploads (agent/artefacts.ts)
//   node_modules/  keytar and ssh2 with their runtime dependencies, copied from the checkout
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const APP_DIR = join(root, 'dist/electron');

// Packages with native code stay packages (electron-builder rebuilds them for Electron, and
// asarUnpack keeps their .node files loadable); everything else is bundled.
const NATIVE_PACKAGES = ['keytar', 'ssh2'];

/** `name`'s folder as Node resolves it from `fromDir`, or undefined when not installed. */
function packageDir(name, fromDir) {
  try {
    return dirname(realpathSync(createRequire(join(fromDir, 'noop.js')).resolve(`${name}/package.json`)));
  } catch {
    return undefined;
  }
}

/**
 * Each package with its dependencies and the optional ones that are installed, as folders under
 * the checkout's node_modules (real paths, so a symlinked node_modules copies what it points at).
 */
function runtimeClosure(names) {
  const marker = `${sep}node_modules${sep}`;
  // Where a package sits under node_modules (`a`, `a/node_modules/b`), whatever links lead there.
  const layout = (dir) => (dir.includes(marker) ? dir.slice(dir.indexOf(marker) + marker.length) : undefined);
  const found = new Map();
  const visit = (name, fromDir, optional) => {
    const dir = packageDir(name, fromDir);
    if (!dir) {
      if (optional) return;
      throw new Error(`build: ${name} is not installed (the app needs it, via ${layout(fromDir) ?? 'tether'}): run \`npm install\``);
    }
    const rel = layout(dir);
    if (!rel) throw new Error(`build: ${name} resolves outside node_modules (${dir})`);
    if (found.has(rel)) return;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    found.set(rel, { name, version: pkg.version, dir });
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, root, name === 'keytar');
  return found;
}

function copyNodeModules(closure, appDir) {
  for (const [rel, { dir }] of closure) {
    // A package's own node_modules holds nested versions: those are closure entries of their own.
    cpSync(dir, join(appDir, 'node_modules', rel), { recursive: true, filter: (src) => !relative(dir, src).split(sep).includes('node_modules') });
  }
}

/**
 * Makes the app folder (dist/electron/, or `dir`). `runBundle: false` when dist/remote/ is fresh
 * already (npm test builds it first).
 */
export async function stageApp({ dir = APP_DIR, runBundle = true, log = console.error } = {}) {
  const started = Date.now();
  if (runBundle) {
    const r = spawnSync(process.execPath, [join(root, 'build/bundle.mjs')], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build: build/bundle.mjs failed');
  }
  const serverBundle = join(root, 'dist/remote/tether.cjs');
  if (!existsSync(serverBundle)) throw new Error('build: dist/remote/tether.cjs is missing: run `node build/bundle.mjs` first');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['electron', ...NATIVE_PACKAGES],
    // Bundled CommonJS packages (zod, ws) call require() for Node's modules.
    banner: { js: "import { createRequire as __tetherRequire } from 'node:module'; const require = __tetherRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
  };
  await esbuild({ ...common, entryPoints: ['electron/main.ts'], outfile: join(dir, 'main.mjs') });
  await esbuild({ ...common, entryPoints: ['build/entries/tether.ts'], outfile: join(dir, 'tether.mjs') });
  await esbuild({ bundle: true, platform: 'browser', format: 'cjs', external: ['electron'], entryPoints: ['electron/preload.ts'], outfile: join(dir, 'preload.cjs'), legalComments: 'none', logLevel: 'warning', absWorkingDir: root });

  const { build: vite } = await import('vite');
  await vite({ configFile: join(root, 'build/vite.renderer.config.ts'), logLevel: 'warn', build: { outDir: join(dir, 'renderer'), emptyOutDir: true } });

  mkdirSync(join(dir, 'icons'));
  for (const f of readdirSync(join(root, 'build/icons'))) if (f.startsWith('tray-')) cpSync(join(root, 'build/icons', f), join(dir, 'icons', f));
  cpSync(serverBundle, join(dir, 'remote/tether.cjs'));
  // Another build step leaves Node runtimes for Node-less servers here; ship them when it did.
  if (existsSync(join(root, 'dist/runtimes'))) cpSync(join(root, 'dist/runtimes'), join(dir, 'runtimes'), { recursive: true });

  const closure = runtimeClosure(NATIVE_PACKAGES);
  copyNodeModules(closure, dir);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dependencies = Object.fromEntries(NATIVE_PACKAGES.filter((n) => closure.has(n)).map((n) => [n, closure.get(n).version]));
  if (!dependencies.keytar) log('build: keytar is not installed (it needs libsecret), so this app keeps keys in its encrypted file only');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: pkg.name, productName: 'Tether', version: pkg.version, description: pkg.description, license: pkg.license, author: 'Tether', type: 'module', main: 'main.mjs', dependencies }, null, 2) + '\n',
  );
  return { dir, packages: [...closure.keys()].sort(), ms: Date.now() - started };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { packages, ms } = await stageApp();
  console.error(`build: dist/electron/ made in ${ms} ms (node_modules: ${packages.join(', ')})`);
}
