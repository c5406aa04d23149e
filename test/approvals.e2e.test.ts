// Asking the laptop: the request waits in the agent's queue, shows the requesting process as
// the daemon read it from /proc, and the answer given on the laptop decides what the tool gets.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from './support/homes.js';
import { retire } from './support/retire.js';
import { World } from './support/world.js';
import { SERVER_BIN, waitFor } from './support/tether-process.js';
import { ExitCode } from '../remote/cli/exit-codes.js';
import type { ApprovalView } from '../protocol/control.js';

let world: World | undefined;

afterEach(async () => {
  await retire(world);
  world = undefined;
});

/** `tether token` started in the background from a known cwd, so the prompt can be checked against it. */
function tokenInBackground(w: World, provider: string) {
  const child = spawn(process.execPath, [SERVER_BIN, 'token', provider], {
    cwd: w.root,
    env: { ...process.env, TETHER_HOME: w.serverHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child, done };
}

async function pending(w: World): Promise<ApprovalView[]> {
  const r = await w.laptop(['approvals', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ApprovalView[];
}

/** The pending approvals, once the laptop has at least one. */
function pendingSoon(w: World, what: string): Promise<ApprovalView[]> {
  return waitFor(async () => {
    const list = await pending(w);
    return list.length ? list : undefined;
  }, what);
}

describe('approvals asked on the laptop', () => {
  it('shows the requesting process read from /proc, and "allow once" hands the tool a lease', async () => {
    world = await World.start({ approve: 'ask' });
    const request = tokenInBackground(world, 'openai');
    const [approval] = await pendingSoon(world, 'the request to reach the laptop');

    expect(approval!.provider).toBe('openai');
    expect(approval!.process.pid).toBe(request.child.pid);
    expect(approval!.process.uid).toBe(process.getuid!());
    expect(approval!.process.cmdline).toContain('token');
    expect(approval!.process.cwd).toBe(world.root);
    expect(approval!.process.parents[0]?.pid).toBe(process.pid);

    const answer = await world.laptop(['approve', approval!.id, 'allow-once']);
    expect(answer.code, answer.stderr).toBe(0);
    const result = await request.done;
    expect(result.code, result.stderr).toBe(ExitCode.ok);
    const token = result.stdout.trim();
    world.tokens.add(token);
    expect((await world.proxy('/openai/v1/chat/completions', token)).status).toBe(200);

    // Allow once means the next request asks again.
    const next = tokenInBackground(world, 'openai');
    const [again] = await pendingSoon(world, 'the second request');
    await world.laptop(['approve', again!.id, 'deny']);
    expect((await next.done).code).toBe(ExitCode.denied);
  });

  it('"allow while connected" answers later requests for that provider without asking', async () => {
    world = await World.start({ approve: 'ask' });
    const first = tokenInBackground(world, 'anthropic');
    const [approval] = await pendingSoon(world, 'the request to reach the laptop');
    await world.laptop(['approve', approval!.id, 'allow']);
    expect((await first.done).code).toBe(ExitCode.ok);

    const second = await world.token('anthropic');
    expect(second.code, second.stderr).toBe(ExitCode.ok);
    expect(await pending(world)).toEqual([]);
  });

  it('a rules file decides by provider and command', async () => {
    const dir = tempDir('rules');
    try {
      const rules = join(dir, 'rules.json');
      writeFileSync(rules, JSON.stringify([
        { provider: 'anthropic', decision: 'deny' },
        { provider: 'openai', command: '*token openai*', decision: 'allow-once' },
      ]));
      world = await World.start({ approve: rules });
      expect((await world.token('anthropic')).code).toBe(ExitCode.denied);
      const openai = await world.token('openai');
      expect(openai.code, openai.stderr).toBe(ExitCode.ok);
      expect((await world.proxy('/openai/v1/chat/completions', openai.stdout.trim())).status).toBe(200);
    } finally {
      removeDir(dir);
    }
  });
});
