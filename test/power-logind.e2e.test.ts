// Headless Linux: `tether agent` follows logind's PrepareForSleep and session Lock on the
// system bus and revokes on them. A real dbus-daemon plays the system bus, a small service
// owning org.freedesktop.login1 plays logind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseLogindLine } from '../agent/power/logind.js';
import { ExitCode } from '../remote/cli/exit-codes.js';
import { World } from './support/world.js';
import { ROOT, waitFor } from './support/tether-process.js';

const PYTHON = '/usr/bin/python3';
const missing = [
  spawnSync('dbus-daemon', ['--version']).status === 0 ? undefined : 'dbus-daemon',
  spawnSync('systemd-inhibit', ['--version']).error ? 'systemd-inhibit (systemd)' : undefined,
  spawnSync('gdbus', ['help']).error ? 'gdbus (libglib2.0-bin)' : undefined,
  spawnSync(PYTHON, ['-c', 'import dbus']).status === 0 ? undefined : 'python3-dbus',
  spawnSync(PYTHON, ['-c', 'from gi.repository import GLib']).status === 0 ? undefined : 'python3-gi',
].filter(Boolean);
if (missing.length) console.warn(`skipping the logind suite: ${missing.join(', ')} not installed`);

let bus: ChildProcess | undefined;
let logind: ChildProcess | undefined;
let world: World | undefined;
/** Every line the stand-in logind printed, in order. */
const logindLines: string[] = [];

function readLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      if (pattern.test(line)) {
        rl.close();
        resolve(line);
      }
    });
    child.once('exit', () => reject(new Error(`exited before printing ${pattern}`)));
  });
}

/** The first logind line from index `from` on that matches, waiting for it. */
async function logindLine(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<{ line: string; index: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = logindLines.findIndex((l, i) => i >= from && pattern.test(l));
    if (index >= 0) return { line: logindLines[index]!, index };
    if (Date.now() > deadline) throw new Error(`stand-in logind never printed ${pattern}; it printed:\n${logindLines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Locks the stand-in granted and has not seen released. */
const locksHeld = () => logindLines.filter((l) => l.startsWith('taken ')).length - logindLines.filter((l) => l === 'released').length;

async function signal(what: string): Promise<void> {
  const from = logindLines.length;
  logind!.stdin!.write(`${what}\n`);
  await logindLine(new RegExp(`^sent ${what}$`), from);
}

beforeAll(async () => {
  if (missing.length) return;
  bus = spawn('dbus-daemon', ['--session', '--print-address=1', '--nofork'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = (await readLine(bus, /^unix:/)).trim();
  logind = spawn(PYTHON, [join(ROOT, 'test/fixtures/logind-service.py'), address], { stdio: ['pipe', 'pipe', 'inherit'] });
  createInterface({ input: logind.stdout! }).on('line', (line) => logindLines.push(line));
  await logindLine(/^ready$/);
  // The agent (a child of this process) finds "the system bus" here, like any D-Bus client.
  process.env.DBUS_SYSTEM_BUS_ADDRESS = address;
});

afterAll(async () => {
  if (world) {
    await world.stop();
    expect(world.leaks()).toEqual([]);
    await world.dispose();
  }
  for (const child of [logind, bus]) {
    if (child && child.exitCode === null) {
      child.kill();
      await once(child, 'exit');
    }
  }
});

describe('logind lines', () => {
  it('maps PrepareForSleep and Lock/Unlock, and nothing else', () => {
    expect(parseLogindLine('/org/freedesktop/login1: org.freedesktop.login1.Manager.PrepareForSleep (true,)')).toBe('suspend');
    expect(parseLogindLine('/org/freedesktop/login1: org.freedesktop.login1.Manager.PrepareForSleep (false,)')).toBe('resume');
    expect(parseLogindLine('/org/freedesktop/login1/session/_32: org.freedesktop.login1.Session.Lock ()')).toBe('lock');
    expect(parseLogindLine('/org/freedesktop/login1/session/_32: org.freedesktop.login1.Session.Unlock ()')).toBe('unlock');
    expect(parseLogindLine('/org/freedesktop/login1: org.freedesktop.login1.Manager.PrepareForShutdown (true,)')).toBeUndefined();
    expect(parseLogindLine('The name org.freedesktop.login1 is owned by :1.1')).toBeUndefined();
  });
});

describe.skipIf(missing.length > 0)('tether agent on a system bus with logind', () => {
  it('revokes on PrepareForSleep(true) and Lock, reconnects on wake and unlock without old leases', async () => {
    world = await World.start({ approve: 'allow' });
    await world.agent!.waitForOutput(/logind: leases are revoked on sleep and screen lock/);

    for (const [down, up, trigger] of [['sleep true', 'sleep false', 'suspend'], ['Lock', 'Unlock', 'lock']] as const) {
      const lease = await world.token('openai');
      expect(lease.code, lease.stderr).toBe(ExitCode.ok);
      const token = lease.stdout.trim();
      expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);

      await signal(down);
      await world.agent!.waitForOutput(new RegExp(`${trigger}: revoked 1 lease\\(s\\) and disconnected unix:`));
      expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
      expect((await world.daemonStatus())?.laptops).toEqual([]);

      await signal(up);
      await world.waitForLaptops(1);
      expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(401);
    }
    const fresh = await world.token('openai');
    expect(fresh.code, fresh.stderr).toBe(ExitCode.ok);
  });

  it('holds a sleep delay lock while leases are out, and releases it only once the daemon has the revocation', async () => {
    world ??= await World.start({ approve: 'allow' });
    await world.agent!.waitForOutput(/logind: leases are revoked on sleep and screen lock/);
    // No lease out (the suite before may have left one): no lock.
    expect((await world.laptop(['revoke'])).code).toBe(0);
    await waitFor(() => locksHeld() === 0 || undefined, 'every lock released');
    const start = logindLines.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(locksHeld()).toBe(0);

    const lease = await world.token('openai');
    expect(lease.code, lease.stderr).toBe(ExitCode.ok);
    const token = lease.stdout.trim();
    const taken = await logindLine(/^taken /, start);
    expect(taken.line).toBe('taken sleep|Tether|revoke leases before sleep|delay');
    logind!.stdin!.write(`probe ${world.state.proxyUrl}/openai/v1/chat/completions ${token}\n`);
    await logindLine(/^probing$/, taken.index);

    // A daemon that cannot answer yet: the lock stays held while the revocation is unacknowledged.
    process.kill(world.daemon.pid, 'SIGSTOP');
    try {
      await signal('sleep true');
      await new Promise((r) => setTimeout(r, 500));
      expect(logindLines.slice(taken.index).filter((l) => l === 'released')).toEqual([]);
    } finally {
      process.kill(world.daemon.pid, 'SIGCONT');
    }
    // Released after the daemon took the revocation: at that moment the lease is already refused.
    const released = await logindLine(/^released$/, taken.index);
    expect((await logindLine(/^probed /, released.index)).line).toBe('probed 401');
    await world.agent!.waitForOutput(/suspend: revoked 1 lease\(s\) and disconnected unix:/);

    await signal('sleep false');
    await world.waitForLaptops(1);
    const again = await world.token('openai');
    expect(again.code, again.stderr).toBe(ExitCode.ok);
    await logindLine(/^taken sleep\|Tether/, released.index);
  });
});
