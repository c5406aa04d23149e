// Real tools for the end-to-end suites, installed on demand into test/tools-pkg/node_modules
// (its own package.json and lockfile; the root's npm install never fetches them). A test asks
// for a tool and gets its binary, or the reason it is not there (then it skips, saying why).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = import.meta.dirname;

export type Tool = { bin: string } | { missing: string };

/** opencode: the npm package `opencode-ai` ships its binary in a platform package (no download step). */
export async function ensureOpencode(): Promise<Tool> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const names = [`opencode-${platform}-${process.arch}`, `opencode-${platform}-${process.arch}-baseline`];
  const candidates = names.map((name) => join(here, 'node_modules', name, 'bin', 'opencode'));
  const failed = await installUnless(() => candidates.some((c) => existsSync(c)), 'opencode-ai');
  if (failed) return failed;
  // The first build that runs here (the plain x64 build needs AVX2; the baseline one does not).
  return firstThatRuns(candidates, 'opencode');
}

/** Claude Code: `@anthropic-ai/claude-code` ships its native binary in a platform package (its postinstall only copies it). */
export async function ensureClaudeCode(): Promise<Tool> {
  const base = `claude-code-${process.platform}-${process.arch}`;
  const candidates = [base, `${base}-musl`].map((name) => join(here, 'node_modules/@anthropic-ai', name, 'claude'));
  const failed = await installUnless(() => candidates.some((c) => existsSync(c)), '@anthropic-ai/claude-code');
  if (failed) return failed;
  return firstThatRuns(candidates, 'Claude Code');
}

/** Codex CLI: its npm launcher (bin/codex.js) runs the native binary from the platform package, as a global install does. */
export async function ensureCodex(): Promise<Tool> {
  const vendor = join(here, 'node_modules/@openai', `codex-${process.platform}-${process.arch}`, 'vendor');
  const native = () => (existsSync(vendor) ? readdirSync(vendor).some((triple) => existsSync(join(vendor, triple, 'bin/codex'))) : false);
  const failed = await installUnless(native, '@openai/codex');
  if (failed) return failed;
  return firstThatRuns([join(here, 'node_modules/@openai/codex/bin/codex.js')], 'Codex CLI');
}

/** Gemini CLI: plain JavaScript (bundle/gemini.js, Node ≥ 20); its native extras (node-pty, keytar) are optional. */
export async function ensureGeminiCli(): Promise<Tool> {
  const bin = join(here, 'node_modules/@google/gemini-cli/bundle/gemini.js');
  const failed = await installUnless(() => existsSync(bin), '@google/gemini-cli');
  if (failed) return failed;
  return firstThatRuns([bin], 'Gemini CLI');
}

/** The first candidate whose `--version` works; run in a throwaway HOME (some tools write state there even for that). */
async function firstThatRuns(candidates: string[], title: string): Promise<Tool> {
  const home = mkdtempSync(join(tmpdir(), 'tt-tool-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const name of ['CODEX_HOME', 'GEMINI_CLI_HOME', 'CLAUDE_CONFIG_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME']) delete env[name];
  try {
    for (const bin of candidates.filter((c) => existsSync(c))) {
      try {
        await run(bin, ['--version'], { timeout: 30_000, env });
        return { bin };
      } catch {
        // try the next build
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  return { missing: `no ${title} build in test/tools-pkg runs on ${process.platform}-${process.arch}` };
}

// One `npm install` at a time: test files run in parallel and each may find the tools missing.
const LOCK = join(tmpdir(), 'tether-tools-pkg-install.lock');

/** Installs test/tools-pkg (every tool, from its lockfile) unless `present()`; the reason when that fails. */
async function installUnless(present: () => boolean, name: string): Promise<{ missing: string } | undefined> {
  if (present()) return undefined;
  await lock();
  try {
    if (present()) return undefined; // another test file installed it meanwhile
    // --ignore-scripts: the postinstalls only copy platform binaries, which we find ourselves.
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: here, timeout: 240_000 });
  } catch (err) {
    return { missing: `${name} could not be installed into test/tools-pkg (${oneLine(err)})` };
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
  return present() ? undefined : { missing: `${name} has no build for ${process.platform}-${process.arch}` };
}

async function lock(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch {
      // Held by an install that died long ago: take it over.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      await delay(200);
    }
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? ((err as { stderr?: string }).stderr || err.message) : String(err);
  const lines = text.trim().split('\n').filter((l) => !/complete log of this run|^npm warn/i.test(l));
  return lines.find((l) => l.startsWith('npm error')) ?? lines[0] ?? 'unknown error';
}
