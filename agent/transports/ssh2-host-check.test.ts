// The built-in transport's host key decision for each StrictHostKeyChecking value, and what it
// writes (the end-to-end view, against real ssh, is test/ssh-differential.e2e.test.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '../errors.js';
import { HostKeyUnknownError } from '../servers/host-key-trust.js';
import type { SshHost } from '../servers/ssh-host.js';
import { tempDir } from '../testing/temp.js';
import { decideHostKey } from './ssh2-host-check.js';

let dir: string;
let cleanup = () => {};
const blob = (name: string, type = 'ed25519') => {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '1024'] : []), '-N', '', '-f', file]);
  return Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1]!, 'base64');
};
let key: Buffer;
let other: Buffer;

function host(extra: Partial<SshHost>): SshHost {
  return { alias: 'box', hostName: 'box.test', user: 'me', port: 2222, identityFiles: [], proxyJump: [], setEnv: {}, knownHostsFiles: [join(dir, 'kh')], configured: true, ...extra };
}

describe('host key decision (built-in transport)', () => {
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    key = blob('key');
    other = blob('other');
  });
  afterAll(() => cleanup());

  it('unknown: ask offers trust on first use; yes does not; accept-new and no write the line ssh writes', () => {
    writeFileSync(join(dir, 'kh'), '');
    const ask = decideHostKey(host({}), key);
    expect(ask.ok).toBe(false);
    expect(!ask.ok && ask.error).toBeInstanceOf(HostKeyUnknownError);
    const yes = decideHostKey(host({ strictHostKeyChecking: 'yes' }), key);
    expect(!yes.ok && yes.error).toBeInstanceOf(AgentError);
    expect(!yes.ok && yes.error).not.toBeInstanceOf(HostKeyUnknownError);
    expect(!yes.ok && yes.error.code).toBe('host-key-unknown');
    expect(decideHostKey(host({ strictHostKeyChecking: 'accept-new' }), key)).toEqual({ ok: true, added: join(dir, 'kh') });
    expect(readFileSync(join(dir, 'kh'), 'utf8')).toBe(`[box.test]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    expect(decideHostKey(host({}), key)).toEqual({ ok: true });
    expect(decideHostKey(host({ strictHostKeyChecking: 'no', hostKeyAlias: 'Alias', hashKnownHosts: true }), other)).toMatchObject({ ok: true });
    expect(readFileSync(join(dir, 'kh'), 'utf8').split('\n')[1]).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
    expect(decideHostKey(host({ hostKeyAlias: 'alias' }), other)).toEqual({ ok: true });
  });

  it('accept-new with UserKnownHostsFile none cannot record, so refuses; a changed key is refused even with no', () => {
    expect(decideHostKey(host({ strictHostKeyChecking: 'accept-new', knownHostsFiles: [] }), key)).toMatchObject({ ok: false, error: { code: 'host-key-unknown' } });
    writeFileSync(join(dir, 'kh2'), `[box.test]:2222 ssh-ed25519 ${other.toString('base64')}\n`);
    const changed = decideHostKey(host({ strictHostKeyChecking: 'no', knownHostsFiles: [join(dir, 'kh2')] }), key);
    expect(changed).toMatchObject({ ok: false, error: { code: 'host-key-changed', message: expect.stringMatching(/HOST KEY CHANGED for box/) } });
    expect(readFileSync(join(dir, 'kh2'), 'utf8').split('\n')).toHaveLength(2);
  });

  it('RequiredRSASize and RevokedHostKeys come before known_hosts', () => {
    const small = blob('small', 'rsa');
    writeFileSync(join(dir, 'kh3'), `[box.test]:2222 ssh-rsa ${small.toString('base64')}\n`);
    expect(decideHostKey(host({ knownHostsFiles: [join(dir, 'kh3')], requiredRsaSize: 2048 }), small)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/1024 bits, below RequiredRSASize 2048/) } });
    expect(decideHostKey(host({ knownHostsFiles: [join(dir, 'kh3')], requiredRsaSize: 1024 }), small)).toEqual({ ok: true });
    writeFileSync(join(dir, 'revoked'), `ssh-ed25519 ${key.toString('base64')}\n`);
    writeFileSync(join(dir, 'kh4'), `[box.test]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    expect(decideHostKey(host({ knownHostsFiles: [join(dir, 'kh4')], revokedHostKeys: [join(dir, 'revoked')] }), key)).toMatchObject({ ok: false, error: { code: 'host-key-changed' } });
    expect(decideHostKey(host({ knownHostsFiles: [join(dir, 'kh4')], revokedHostKeys: [join(dir, 'nope')] }), key)).toMatchObject({ ok: false, error: { code: 'bad-config' } });
  });
});
