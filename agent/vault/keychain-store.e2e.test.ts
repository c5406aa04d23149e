import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { KEYCHAIN_PROBE_TIMEOUT_MS, keychainService } from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const roundtripScript = path.join(here, 'testdata/keychain-roundtrip.ts');
const openScript = path.join(here, 'testdata/keychain-open.ts');

function installed(command: string): boolean {
  return !spawnSync('sh', ['-c', `command -v ${command}`]).status;
}
const missing = ['dbus-run-session', 'gnome-keyring-daemon'].filter((c) => !installed(c));

const children: ChildProcess[] = [];
const dirs: string[] = [];
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    // The child leads its own process group: take the bus and keyring daemons with it.
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join('/tmp', 'tt-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a child to its exit; one still running after `deadlineMs` fails the test instead of hanging it. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, deadlineMs = 20_000): Promise<Run> {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${path.basename(command)} still running after ${deadlineMs} ms`)), deadlineMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}

function lastJsonLine(out: Run): Record<string, unknown> {
  const line = out.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON result (exit ${out.code}); stderr:\n${out.stderr}`);
  }
}

/** A clean environment: a throwaway HOME/XDG tree so nothing touches the real user's keyring. */
function isolatedEnv(dir: string): NodeJS.ProcessEnv {
  const runtime = path.join(dir, 'run');
  fs.mkdirSync(runtime, { mode: 0o700 });
  const { PATH, LANG } = process.env;
  return {
    PATH,
    LANG,
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    XDG_RUNTIME_DIR: runtime,
    TETHER_HOME: path.join(dir, 'tether'),
  };
}

describe('keychain service name', () => {
  it("is 'tether' without TETHER_HOME and unique per resolved TETHER_HOME", () => {
    expect(keychainService({})).toBe('tether');
    const a = keychainService({ TETHER_HOME: '/tmp/tt-a' });
    expect(a).toMatch(/^tether:[0-9a-f]{12}$/);
    expect(keychainService({ TETHER_HOME: '/tmp/tt-a/../tt-a/' })).toBe(a);
    expect(keychainService({ TETHER_HOME: '/tmp/tt-b' })).not.toBe(a);
  });
});

describe('keychain store against a real Secret Service', () => {
  it.skipIf(missing.length > 0)(
    `sets, gets, lists and deletes through gnome-keyring${missing.length ? ` (skipped: ${missing.join(', ')} not installed; CI has them)` : ''}`,
    async () => {
      const dir = tempDir();
      const secret = 'sk-test-' + randomBytes(12).toString('hex');
      const env = {
        ...isolatedEnv(dir),
        TT_SECRET: secret,
        TT_EXTERNAL_SECRET: 'sk-test-' + randomBytes(12).toString('hex'),
        TT_KEYRING_PASSWORD: randomBytes(9).toString('hex'),
        TT_TSX: tsx,
        TT_SCRIPT: roundtripScript,
      };
      // A non-empty password creates and unlocks the login keyring without a prompt;
      // --daemonize returns once the daemon owns org.freedesktop.secrets on this bus.
      const session =
        'printf %s "$TT_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --daemonize --components=secrets >/dev/null' +
        ' && exec "$TT_TSX" "$TT_SCRIPT"';
      const out = await run('dbus-run-session', ['--', 'sh', '-c', session], env);
      const result = lastJsonLine(out);
      expect(out.code, out.stderr).toBe(0);
      expect(result).toMatchObject({
        kind: 'keychain',
        service: keychainService(env),
        gotMatches: true,
        listed: ['credential:openai'],
        toolMatches: true,
        seenByOtherInstance: null,
        externalMatches: true,
        deleted: true,
        deletedAgain: false,
        afterDelete: null,
        toolAfterDelete: null,
        listedAfterDelete: ['credential:external'],
      });
      expect(result.service).toMatch(/^tether:[0-9a-f]{12}$/);
      expect(['secret-tool', 'keytar']).toContain(result.tool);
      expect(out.stdout + out.stderr).not.toContain(secret);
    },
  );

  it('fails fast with keychain-unavailable when D-Bus is not there', async () => {
    const dir = tempDir();
    const env = { ...isolatedEnv(dir), DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(dir, 'no-bus')}` };
    const out = await run(tsx, [openScript], env);
    expect(out.code).toBe(0);
    const result = lastJsonLine(out);
    expect(result).toMatchObject({ ok: false, code: 'keychain-unavailable' });
    expect(result.message).toContain('--store file');
    expect(result.ms as number).toBeLessThan(KEYCHAIN_PROBE_TIMEOUT_MS + 2_000);
  });

  it('gives up after the probe timeout when the bus never answers', async () => {
    const dir = tempDir();
    const socket = path.join(dir, 'silent-bus');
    // Accepts connections and says nothing: keytar would wait for it forever.
    const silent = net.createServer((socket) => sockets.push(socket));
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(socket, resolve));
    const env = { ...isolatedEnv(dir), DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}` };
    // The probe's hang must not leak into the caller: the script exits by itself, well
    // before the deadline, although the silent bus never lets go of the probe's connection.
    const out = await run(tsx, [openScript], env, KEYCHAIN_PROBE_TIMEOUT_MS + 8_000);
    expect(out.code).toBe(0);
    const result = lastJsonLine(out);
    expect(result).toMatchObject({ ok: false, code: 'keychain-unavailable' });
    expect(result.cause).toMatch(/did not answer/);
    expect(result.ms as number).toBeGreaterThanOrEqual(KEYCHAIN_PROBE_TIMEOUT_MS - 100);
    expect(result.ms as number).toBeLessThan(KEYCHAIN_PROBE_TIMEOUT_MS + 3_000);
  });
});
