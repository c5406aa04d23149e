import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AskpassBroker, askpassScript } from './askpass.js';
import type { SshPrompt } from './ssh-prompt.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

/** Runs a broker's askpass program as ssh does: the prompt as its argument, the answer on its stdout. */
function runAskpass(program: string, env: Record<string, string>, prompt: string) {
  const child = spawn(program, [prompt], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const done = new Promise<{ code: number | null; stdout: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout })));
  return { child, done };
}

describe('askpass broker (the real askpass program over its socket)', () => {
  it('hands ssh what the prompter answered, and counts a question asked again as a later attempt', async () => {
    const seen: SshPrompt[] = [];
    const broker = await AskpassBroker.open(tmp.dir, 'box', async (p) => (seen.push(p), 'hunter2'));
    const program = broker.program;
    try {
      for (let i = 0; i < 2; i++) {
        const r = await runAskpass(program, broker.env(), "root@box's password: ").done;
        expect(r).toEqual({ code: 0, stdout: 'hunter2\n' });
      }
      expect(seen.map((p) => [p.kind, p.attempt])).toEqual([['password', undefined], ['password', 2]]);
      expect(broker.unanswered).toBe(0);
    } finally {
      broker.close();
    }
  });

  it('refuses (exit 1, nothing printed) when nobody answers, and a client without the token gets nothing', async () => {
    const broker = await AskpassBroker.open(tmp.dir, 'box', async () => undefined);
    const program = broker.program;
    try {
      expect(await runAskpass(program, broker.env(), 'Password: ').done).toEqual({ code: 1, stdout: '' });
      expect(broker.unanswered).toBe(1);
      const guesser = join(tmp.dir, 'guesser');
      writeFileSync(guesser, askpassScript(broker.socketPath, 'guess'), { mode: 0o700 });
      expect(await runAskpass(guesser, {}, 'Password: ').done).toEqual({ code: 1, stdout: '' });
    } finally {
      broker.close();
    }
  });

  it('withdraws a question when ssh kills its askpass, and every open one when the login is over', async () => {
    const signals: AbortSignal[] = [];
    const broker = await AskpassBroker.open(tmp.dir, 'box', (_p, signal) => {
      signals.push(signal!);
      return new Promise(() => {}); // nobody ever answers
    });
    const program = broker.program;
    const killed = runAskpass(program, broker.env(), 'Verification code: ');
    const left = runAskpass(program, broker.env(), 'Verification code: ');
    while (signals.length < 2) await new Promise((r) => setTimeout(r, 10));
    killed.child.kill('SIGTERM');
    await killed.done;
    await expect.poll(() => signals.filter((s) => s.aborted).length).toBe(1);
    broker.close();
    expect((await left.done).code).toBe(1);
    await expect.poll(() => signals.every((s) => s.aborted)).toBe(true);
  });
});
