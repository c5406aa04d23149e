// RevokedHostKeys held to OpenSSH: KRLs made by `ssh-keygen -k` and checked by `ssh-keygen -Q`,
// and plain key lists; an unreadable or malformed file is an error (the connection is refused).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { checkRevokedKeys } from './revoked-keys.js';

const hasKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;
let dir: string;
let cleanup = () => {};

function key(name: string, type = 'ed25519'): { pub: string; blob: Buffer } {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8');
  return { pub: `${file}.pub`, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
}

/** OpenSSH's answer: `ssh-keygen -Q -f KRL key.pub` exits 1 when revoked. */
function opensshRevoked(krl: string, pub: string): boolean {
  return spawnSync('ssh-keygen', ['-Q', '-f', krl, pub]).status === 1;
}

describe.skipIf(!hasKeygen)('RevokedHostKeys', () => {
  beforeAll(() => ({ dir, cleanup } = tempDir()));
  afterAll(() => cleanup());

  it('KRLs by explicit key, SHA1 and SHA256 hash, as ssh-keygen -Q reads them', () => {
    const a = key('a');
    const b = key('b', 'ecdsa');
    const c = key('c');
    const d = key('d', 'rsa');
    const fp = (pub: string, hash: string) => execFileSync('ssh-keygen', ['-l', '-E', hash, '-f', pub], { encoding: 'utf8' }).split(' ')[1]!;
    const spec = join(dir, 'spec');
    // `hash:` takes a SHA256 fingerprint; `key:` a public key; `sha1:` a key whose SHA1 is listed.
    writeFileSync(spec, `key: ${readFileSync(a.pub, 'utf8')}hash: ${fp(b.pub, 'sha256')}\nsha1: ${readFileSync(c.pub, 'utf8')}`);
    const krl = join(dir, 'krl');
    execFileSync('ssh-keygen', ['-q', '-k', '-f', krl, spec], { stdio: 'ignore' });
    for (const k of [a, b, c, d]) {
      expect(checkRevokedKeys(krl, k.blob).state === 'revoked', k.pub).toBe(opensshRevoked(krl, k.pub));
    }
    expect(checkRevokedKeys(krl, a.blob)).toEqual({ state: 'revoked' });
    expect(checkRevokedKeys(krl, d.blob)).toEqual({ state: 'not-revoked' });
    // `-u` updates a KRL in place: both revocations are in it.
    execFileSync('ssh-keygen', ['-q', '-k', '-u', '-f', krl, d.pub], { stdio: 'ignore' });
    expect(opensshRevoked(krl, d.pub)).toBe(true);
    expect(checkRevokedKeys(krl, d.blob)).toEqual({ state: 'revoked' });
  });

  it('a plain list of public keys; comments and blank lines skipped; a bad line is an error', () => {
    const a = key('la');
    const b = key('lb');
    const list = join(dir, 'list');
    writeFileSync(list, `# revoked\n\n${readFileSync(a.pub, 'utf8')}`);
    expect(checkRevokedKeys(list, a.blob)).toEqual({ state: 'revoked' });
    expect(checkRevokedKeys(list, b.blob)).toEqual({ state: 'not-revoked' });
    // (ssh-keygen -Q reads KRLs only; ssh itself reads such a list: test/ssh-differential.e2e.test.ts.)
    writeFileSync(list, `not a key\n`);
    expect(checkRevokedKeys(list, a.blob).state).toBe('error');
    expect(checkRevokedKeys(join(dir, 'missing'), a.blob)).toMatchObject({ state: 'error', reason: expect.stringMatching(/ENOENT/) });
    writeFileSync(list, Buffer.concat([Buffer.from('SSHKRL\n\0', 'latin1'), Buffer.from([0, 0, 0, 1, 1, 2])]));
    expect(checkRevokedKeys(list, a.blob).state).toBe('error');
  });
});
