import { describe, expect, it } from 'vitest';
import { CommandToken, parseTtl, planCommand } from './forward-credential.js';

describe('planCommand', () => {
  it('splits a plain command into words, honouring quotes, without a shell', () => {
    expect(planCommand('gcloud auth print-access-token')).toEqual({ file: 'gcloud', args: ['auth', 'print-access-token'], shell: false });
    expect(planCommand(`"/opt/my tools/mint" --scope 'a b' x\\ y ""`)).toEqual({ file: '/opt/my tools/mint', args: ['--scope', 'a b', 'x y', ''], shell: false });
  });

  it.each(['a | b', 'a; b', 'a $(b)', 'a `b`', 'echo $HOME', 'FOO=1 mint', 'mint > out', 'cat ~/.token', 'a && b'])('runs %s under a shell', (cmd) => {
    expect(planCommand(cmd).shell).toBe(true);
  });

  it('refuses unclosed quotes and empty commands', () => {
    expect(() => planCommand(`mint 'open`)).toThrow(/quote/);
    expect(() => planCommand('   ')).toThrow(/empty/);
  });
});

describe('parseTtl', () => {
  it('reads durations', () => {
    expect(parseTtl('50m')).toBe(3_000_000);
    expect(parseTtl('30s')).toBe(30_000);
    expect(parseTtl('1h')).toBe(3_600_000);
    expect(parseTtl('90')).toBe(90_000);
    expect(() => parseTtl('soon')).toThrow();
  });
});

describe('CommandToken', () => {
  it('caches one output until shortly before its TTL, and shares a run between concurrent callers', async () => {
    const token = new CommandToken('t', `${JSON.stringify(process.execPath)} -e "console.log(require('crypto').randomBytes(8).toString('hex'))"`, 60_000);
    const [a, b] = await Promise.all([token.current(), token.current()]);
    expect(a.secret).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toBe(a);
    expect(await token.current()).toBe(a);
    expect(token.runs).toBe(1);
    expect(token.refreshAt(a)).toBe(a.expiresAt - 12_000);
  });

  it('fails with a stable code and without the output when the command fails or prints nothing usable', async () => {
    const failing = new CommandToken('t', `${JSON.stringify(process.execPath)} -e "console.log('SECRET-ish'); process.exit(3)"`, 60_000);
    const err = (await failing.current().catch((e: unknown) => e)) as { code: string; message: string };
    expect(err.code).toBe('mint-failed');
    expect(err.message).not.toContain('SECRET');
    const empty = new CommandToken('t', `${JSON.stringify(process.execPath)} -e "console.log('two words')"`, 60_000);
    expect(((await empty.current().catch((e: unknown) => e)) as { code: string }).code).toBe('mint-failed');
  });
});
