// The server bundle ships alone: one file, no node_modules, nothing laptop-side inside.
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, SERVER_BIN } from './support/tether-process.js';
import { removeDir, tempDir } from './support/homes.js';

/** Uploaded over SSH to every server and compiled by every `tether token` run (bench/token-process.ts). */
const BYTE_BUDGET = 300 * 1024;

describe('the server bundle', () => {
  it(`stays within its byte budget (${BYTE_BUDGET / 1024} KB)`, () => {
    expect(statSync(SERVER_BIN).size).toBeLessThanOrEqual(BYTE_BUDGET);
    // zod's locales are most of zod: a named `import { z }` keeps them all (import * as z from 'zod').
    expect(readFileSync(SERVER_BIN, 'utf8')).not.toMatch(/Zu gro/); // zod's German locale
  });

  it('bundles exactly the packages recorded in build/remote-deps.txt, none of them laptop-only', () => {
    const built = readFileSync(join(ROOT, 'dist/remote/deps.txt'), 'utf8');
    const committed = readFileSync(join(ROOT, 'build/remote-deps.txt'), 'utf8');
    expect(built).toBe(committed);
    for (const banned of ['electron', 'react', 'keytar', 'ssh2']) expect(built.split('\n')).not.toContain(banned);
    // The whole CLI sits in a string literal (build/bundle.mjs), so its quotes appear escaped.
    expect(readFileSync(SERVER_BIN, 'utf8')).not.toMatch(/require\(\\?"(keytar|ssh2|electron)\\?"\)/);
  });

  it('runs from a folder with no node_modules', () => {
    const dir = tempDir('bundle');
    try {
      const copy = join(dir, 'tether');
      copyFileSync(SERVER_BIN, copy);
      const r = spawnSync(process.execPath, [copy, '--help'], { encoding: 'utf8', cwd: dir, env: { ...process.env, TETHER_HOME: dir } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/tether serve/);
    } finally {
      removeDir(dir);
    }
  });

  describe('`tether token` fast path', () => {
    const home = tempDir('bundle-token');
    const env = { ...process.env, TETHER_HOME: home };
    // A preload that makes compiling the whole CLI fail loudly: the token path must never need it.
    const guard = join(home, 'no-whole-cli.cjs');
    writeFileSync(guard, `require('node:vm').runInThisContext = () => { throw new Error('compiled the whole CLI'); };\n`);
    afterAll(() => removeDir(home));

    it('keeps the token path small (no schema library, no daemon code)', () => {
      const text = readFileSync(SERVER_BIN, 'utf8');
      const tokenPath = text.slice(0, text.indexOf('}else{require("node:vm")'));
      expect(tokenPath.length).toBeGreaterThan(1000);
      expect(tokenPath.length).toBeLessThanOrEqual(16 * 1024);
      // Names that only zod, ws and the daemon's HTTP server bring (all present in the rest of the file).
      for (const name of ['ZodObject', 'WebSocketServer', 'createServer']) {
        expect(text.slice(tokenPath.length)).toContain(name);
        expect(tokenPath).not.toContain(name);
      }
    });

    it('answers `tether token` without compiling the rest of the CLI', () => {
      const r = spawnSync(process.execPath, ['-r', guard, SERVER_BIN, 'token', 'openai'], { encoding: 'utf8', env });
      expect(r.stderr).toMatch(/^tether: no tether daemon is running under .*tether serve/);
      expect(r.status).toBe(2);
      // The guard is real: any other command does compile it, and fails under the guard.
      const help = spawnSync(process.execPath, ['-r', guard, SERVER_BIN, 'token', '--help'], { encoding: 'utf8', env });
      expect(help.stderr).toMatch(/compiled the whole CLI/);
    });

    it('fails exactly as the whole CLI does (the laptop bin runs the same commands without the fast path)', () => {
      for (const args of [['token', 'openai'], ['token'], ['token', '--bad', 'openai'], ['token', 'a', 'b']]) {
        const fast = spawnSync(process.execPath, [SERVER_BIN, ...args], { encoding: 'utf8', env });
        const whole = spawnSync(process.execPath, [join(ROOT, 'dist/tether.js'), ...args], { encoding: 'utf8', env });
        expect({ args, status: fast.status, stderr: fast.stderr, stdout: fast.stdout }).toEqual({ args, status: whole.status, stderr: whole.stderr, stdout: whole.stdout });
      }
    });
  });
});
