import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDaemon } from '../testing/fake-daemon.js';
import { tempDir } from '../testing/temp.js';

const BIN = join(import.meta.dirname, 'bin.ts');
const SECRET = 'sk-cli-SECRET-abcdef123';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function env(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: tmp.dir, TETHER_HOME: join(tmp.dir, 'home'), TETHER_VAULT_PASSPHRASE: 'correct horse battery staple' };
}

function start(args: string[], stdin = '') {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

const tether = (args: string[], stdin = '') => start(args, stdin).done;

async function waitUntil(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tether creds', () => {
  it('adds a credential from stdin into the file vault and lists it without the secret', async () => {
    const add = await tether(['creds', 'add', 'openai', '--store', 'file', '--name', 'work'], `${SECRET}\n`);
    expect(add.stderr).toMatch(/^added work \(OpenAI, file store\)/);
    expect(add.code).toBe(0);
    const list = await tether(['creds', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'work', provider: 'openai', store: 'file', baseUrl: 'https://api.openai.com' })]);
    expect(list.stdout).not.toContain(SECRET);
    expect(readFileSync(join(tmp.dir, 'home', 'config.json'), 'utf8')).not.toContain(SECRET);
    expect(readFileSync(join(tmp.dir, 'home', 'vault.enc')).toString('latin1')).not.toContain(SECRET);
  });

  it('refuses to add over an existing name without --replace, keeping what it had', async () => {
    const first = await tether(['creds', 'add', 'openai', '--store', 'file', '--base-url', 'https://gw.example.com'], `${SECRET}\n`);
    expect(first.code, first.stderr).toBe(0);
    const again = await tether(['creds', 'add', 'openai', '--store', 'file'], 'sk-other-secret-000\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('tether: a credential named "openai" exists (OpenAI, file store, https://gw.example.com): add --replace to overwrite it with only what this command gives, or choose another --name\n');
    const forward = await tether(['creds', 'add', 'openai', '--command', 'echo tok']);
    expect(forward.code).toBe(1);
    expect(forward.stderr).toMatch(/credential named "openai" exists/);
    const kept = JSON.parse((await tether(['creds', 'list', '--json'])).stdout) as { baseUrl: string }[];
    expect(kept).toEqual([expect.objectContaining({ name: 'openai', baseUrl: 'https://gw.example.com' })]);
    const replaced = await tether(['creds', 'add', 'openai', '--store', 'file', '--replace'], 'sk-other-secret-000\n');
    expect(replaced.code, replaced.stderr).toBe(0);
    const now = JSON.parse((await tether(['creds', 'list', '--json'])).stdout) as { baseUrl: string }[];
    expect(now).toEqual([expect.objectContaining({ name: 'openai', baseUrl: 'https://api.openai.com' })]);
  });

  it('has no way to take a secret from argv', async () => {
    const r = await tether(['creds', 'add', 'openai', '--secret', SECRET]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown option --secret');
    expect(existsSync(join(tmp.dir, 'home', 'config.json'))).toBe(false);
  });

  it('refuses an empty secret, an unknown provider, and memory without an agent', async () => {
    const empty = await tether(['creds', 'add', 'openai', '--store', 'file'], '\n');
    expect(empty.code).toBe(1);
    const unknown = await tether(['creds', 'add', 'nope', '--store', 'file'], SECRET);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/known providers are openai, anthropic/);
    const memory = await tether(['creds', 'add', 'openai', '--store', 'memory'], SECRET);
    expect(memory.code).toBe(1);
    expect(memory.stderr).toMatch(/no tether agent is running/);
  });
});

describe('tether agent', () => {
  it('says so in one line when no agent runs', async () => {
    for (const cmd of [['status'], ['approvals'], ['revoke']]) {
      const r = await tether(cmd);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/no tether agent is running/);
    }
  });

  it('exits 1 with one line when its only server refuses', async () => {
    const r = await tether(['agent', '--connect', `unix:${join(tmp.dir, 'nothing.sock')}`, '--store', 'file']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tether: cannot reach .*nothing\.sock: ENOENT/)]);
  });

  it('prints a refused handshake once, not also as a disconnect', async () => {
    const daemon = await FakeDaemon.start({ socketPath: join(tmp.dir, 'd.sock') });
    try {
      const r = await tether(['agent', '--connect', `unix:${join(tmp.dir, 'd.sock')}`, '--store', 'file']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tether: unknown daemon at unix:.*d\.sock \(key SHA256:.*\): pair first/)]);
    } finally {
      await daemon.close();
    }
  });

  it('prints a link that was up and went down once', async () => {
    const daemon = await FakeDaemon.start({ socketPath: join(tmp.dir, 'd.sock'), pairCode: '0123-4567-89AB-C' });
    try {
      const run = start(['agent', '--connect', `unix:${join(tmp.dir, 'd.sock')}`, '--pair', '0123-4567-89AB-C', '--store', 'file']);
      await daemon.nextOf('offer');
      daemon.socket!.close(4000, 'daemon stopping');
      await waitUntil(() => /disconnected from/.test(run.stderr()));
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.stderr.match(/daemon stopping/g)).toHaveLength(1);
      expect(result.stderr).toMatch(/^disconnected from unix:.*d\.sock: daemon closed the link \(4000 daemon stopping\)$/m);
    } finally {
      await daemon.close();
    }
  });

  it('pairs, serves the control socket, lends a memory credential and says bye on SIGTERM', async () => {
    const daemon = await FakeDaemon.start({ socketPath: join(tmp.dir, 'd.sock'), pairCode: '0123-4567-89AB-C' });
    try {
      const run = start(['agent', '--connect', `unix:${join(tmp.dir, 'd.sock')}`, '--pair', '0123-4567-89AB-C', '--store', 'file', '--approve', 'deny']);
      await daemon.nextOf('offer');
      const add = await tether(['creds', 'add', 'anthropic', '--store', 'memory'], SECRET);
      expect(add.code).toBe(0);
      expect((await daemon.nextOf('offer')).credentials.map((p) => p.name)).toEqual(['anthropic']);
      const status = await tether(['status', '--json']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ servers: [{ state: 'READY', fingerprint: daemon.fingerprint }] });
      expect(status.stdout).not.toContain(SECRET);
      expect(existsSync(join(tmp.dir, 'home', 'run', 'agent.json'))).toBe(true);
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`paired with unix:${join(tmp.dir, 'd.sock')} (${daemon.fingerprint})`);
      expect((await daemon.nextOf('bye')).t).toBe('bye');
      expect(existsSync(join(tmp.dir, 'home', 'run', 'agent.json'))).toBe(false);
      expect(existsSync(join(tmp.dir, 'home', 'run', 'agent.sock'))).toBe(false);
    } finally {
      await daemon.close();
    }
  });
});
