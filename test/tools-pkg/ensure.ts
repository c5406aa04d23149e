// Real tools for the end-to-end suites, installed on demand into test/tools-pkg/node_modules
// (its own package.json and lockfile; the root's npm install never fetches them). A test asks
// for a tool and gets its binary, or the reason it is not there (then it skips, saying why).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = import.meta.dirname;

export type Tool = { bin: string } | { missing: string };

/** opencode: the npm package `opencode-ai` ships its binary in a platform package (no download step). */
export async function ensureOpencode(): Promise<Tool> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const names = [`opencode-${platform}-${process.arch}`, `opencode-${platform}-${process.arch}-baseline`];
  const candidates = names.map((name) => join(here, 'node_modules', name, 'bin', 'opencode'));
  if (!candidates.some((c) => existsSync(c))) {
    try {
      // --ignore-scripts: opencode-ai's postinstall only copies the platform binary, which we find ourselves.
      await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: here, timeout: 240_000 });
    } catch (err) {
      return { missing: `opencode-ai could not be installed into test/tools-pkg (${oneLine(err)})` };
    }
  }
  // The first build that runs here (the plain x64 build needs AVX2; the baseline one does not).
  for (const bin of candidates.filter((c) => existsSync(c))) {
    try {
      await run(bin, ['--version'], { timeout: 30_000 });
      return { bin };
    } catch {
      // try the next build
    }
  }
  return { missing: `no opencode build in test/tools-pkg runs on ${process.platform}-${process.arch}` };
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? ((err as { stderr?: string }).stderr || err.message) : String(err);
  const lines = text.trim().split('\n').filter((l) => !/complete log of this run|^npm warn/i.test(l));
  return lines.find((l) => l.startsWith('npm error')) ?? lines[0] ?? 'unknown error';
}
