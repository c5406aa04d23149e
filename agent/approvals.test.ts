import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalQueue } from './approval-queue.js';
import { ApprovalPolicy, starGlobToRegExp } from './approvals.js';
import { AgentError } from './errors.js';
import { tempDir } from './testing/temp.js';

const proc = (cmdline: string[], pid = 42) => ({ pid, uid: 1000, user: 'me', cmdline, parents: [] });
const subject = (provider: string, server = 'unix:/srv/gpu.sock', cmdline = ['opencode', 'run']) => ({ server, provider, process: proc(cmdline) });

let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.cleanup());

describe('ApprovalPolicy', () => {
  it.each(['ask', 'allow', 'allow-once', 'deny'] as const)('parses %s as a fixed decision', (spec) => {
    expect(ApprovalPolicy.parse(spec).decide(subject('openai'))).toBe(spec);
  });

  it('matches rules in order with * globs, defaulting to ask', () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'rules.json');
    writeFileSync(
      file,
      JSON.stringify([
        { provider: 'anthropic', command: 'claude *', decision: 'allow' },
        { server: '*gpu*', provider: 'open*', decision: 'allow-once' },
        { command: '*curl*', decision: 'deny' },
      ]),
    );
    const policy = ApprovalPolicy.parse(file);
    expect(policy.decide(subject('anthropic', 'x', ['claude', '-p', 'hi']))).toBe('allow');
    expect(policy.decide(subject('anthropic', 'x', ['opencode']))).toBe('ask');
    expect(policy.decide(subject('openai'))).toBe('allow-once');
    expect(policy.decide(subject('openai', 'unix:/other.sock', ['/usr/bin/curl', 'x']))).toBe('deny');
    expect(policy.decide(subject('gemini', 'unix:/other.sock'))).toBe('ask');
  });

  it('refuses bad specs and bad rule files with bad-policy', () => {
    tmp = tempDir();
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ provider: 'x', decision: 'maybe' }]));
    for (const spec of ['sometimes', bad]) {
      try {
        ApprovalPolicy.parse(spec);
        expect.unreachable();
      } catch (err) {
        expect((err as AgentError).code).toBe('bad-policy');
      }
    }
  });

  it('treats glob metacharacters other than * literally', () => {
    expect(starGlobToRegExp('a.b*').test('a.bcd')).toBe(true);
    expect(starGlobToRegExp('a.b*').test('axbcd')).toBe(false);
  });
});

describe('ApprovalQueue', () => {
  it('denies with timeout when nobody answers', async () => {
    const q = new ApprovalQueue(30);
    const { outcome } = q.ask(subject('openai'));
    expect(await outcome).toEqual({ answer: 'deny', by: 'timeout' });
    expect(q.pending()).toEqual([]);
  });

  it('takes the first answer and ignores later ones', async () => {
    const q = new ApprovalQueue(60_000);
    const { approval, outcome } = q.ask(subject('openai'));
    expect(q.pending().map((a) => a.id)).toEqual([approval.id]);
    expect(q.answer(approval.id, 'allow-once')).toBe(true);
    expect(q.answer(approval.id, 'deny')).toBe(false);
    expect(await outcome).toEqual({ answer: 'allow-once', by: 'person' });
  });

  it('counts repeated asks from the same process', () => {
    const q = new ApprovalQueue(60_000);
    q.ask(subject('openai'));
    expect(q.ask(subject('openai')).approval.asks).toBe(2);
    expect(q.ask(subject('anthropic')).approval.asks).toBe(1);
    q.cancel();
    expect(q.pending()).toEqual([]);
  });
});
