// Installs bench/'s own dependencies (the Portkey gateway) when they are missing, so
// `npm run bench` works on a fresh checkout. Never touches the root's node_modules.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, 'node_modules/@portkey-ai/gateway/build/start-server.js'))) {
  process.stderr.write('bench: installing bench/ dependencies (@portkey-ai/gateway)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: here, stdio: 'inherit' });
}
