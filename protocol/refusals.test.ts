import { describe, expect, it } from 'vitest';
import { ExitCode, Refusals, exitCodeFor, isRefusalCode, refusal } from './refusals.js';

describe('the refusal table', () => {
  it('gives every code an HTTP error status and a one-line sentence', () => {
    for (const [code, spec] of Object.entries(Refusals)) {
      expect(code).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
      expect(spec.status, code).toBeGreaterThanOrEqual(400);
      expect(spec.status, code).toBeLessThan(600);
      const sentence = refusal(code as keyof typeof Refusals, { laptop: 'alice-mbp', name: 'openai' }).message;
      expect(sentence.length, code).toBeGreaterThan(10);
      expect(sentence, code).not.toMatch(/\n|undefined/);
    }
  });

  it('answers a lease that ended with a 401, never a 5xx (SDKs refresh a key on 401 and retry a 5xx)', () => {
    for (const code of ['lease-ended', 'unknown-lease', 'exec-ended', 'credential-withdrawn', 'no-lease-token'] as const) expect(Refusals[code].status, code).toBe(401);
  });

  it('maps codes to the CLI exit codes of DESIGN.md; unknown codes are usage failures', () => {
    expect(exitCodeFor('no-laptop')).toBe(ExitCode.noLaptop);
    expect(exitCodeFor('laptop-left')).toBe(ExitCode.noLaptop);
    expect(exitCodeFor('denied')).toBe(ExitCode.denied);
    expect(exitCodeFor('approval-timeout')).toBe(ExitCode.approvalTimeout);
    expect(exitCodeFor('unknown-credential')).toBe(ExitCode.unknownCredential);
    expect(exitCodeFor('constructor')).toBe(ExitCode.usage);
    expect(isRefusalCode('__proto__')).toBe(false);
  });

  it('puts the facts in the sentence: the laptop and the credential it names', () => {
    expect(refusal('denied', { laptop: 'alice-mbp' }).message).toContain('alice-mbp');
    expect(refusal('unknown-credential', { laptop: 'alice-mbp', name: 'work' }).message).toMatch(/alice-mbp does not lend "work".*tether creds add/);
    expect(refusal('unknown-credential', { name: 'work' }).message).toMatch(/no credential named "work" is lent here/);
  });
});
