import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/temp.js';
import { hashedKnownHostsLine, keyTypeOf, sshFingerprint, verifyHostKey } from './known-hosts.js';

let dir: string;
let cleanup = () => {};
afterEach(() => cleanup());

/** An ssh-ed25519 public key blob (string type, string key), as a server presents it. */
function hostKeyBlob(): Buffer {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

describe('known_hosts', () => {
  it('known (hashed and plain), unknown, changed, revoked', () => {
    ({ dir, cleanup } = tempDir());
    const good = hostKeyBlob();
    const other = hostKeyBlob();
    const file = join(dir, 'known_hosts');
    writeFileSync(
      file,
      [
        '# comment',
        hashedKnownHostsLine('10.0.0.1', 2222, 'ssh-ed25519', good.toString('base64'), randomBytes(20)),
        `gpu.lab,10.0.0.2 ssh-ed25519 ${good.toString('base64')}`,
        `@revoked * ssh-ed25519 ${other.toString('base64')}`,
      ].join('\n'),
    );
    expect(keyTypeOf(good)).toBe('ssh-ed25519');
    expect(verifyHostKey([file], '10.0.0.1', 2222, good)).toEqual({ state: 'known' });
    expect(verifyHostKey([file], 'GPU.lab', 22, good)).toEqual({ state: 'known' });
    // Hashed entries name "[host]:port": the same host on port 22 is a different entry.
    expect(verifyHostKey([file], '10.0.0.1', 22, good)).toMatchObject({ state: 'unknown', fingerprint: sshFingerprint(good) });
    const fresh = hostKeyBlob();
    expect(verifyHostKey([file], '10.0.0.1', 2222, fresh)).toMatchObject({ state: 'changed', fingerprint: sshFingerprint(fresh), line: 2 });
    expect(verifyHostKey([file], 'gpu.lab', 22, other)).toMatchObject({ state: 'revoked' });
    expect(verifyHostKey([join(dir, 'missing')], 'gpu.lab', 22, good).state).toBe('unknown');
  });
});
