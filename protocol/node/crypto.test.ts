import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint, macEquals, pairMac, signTranscript, verifyTranscript, wirePublicKey } from './crypto.js';

describe('crypto contract', () => {
  it('signs, verifies and fingerprints like ssh-keygen', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const x = wirePublicKey(publicKey);
    expect(x).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sig = signTranscript('hello', privateKey);
    expect(sig).toHaveLength(86);
    expect(verifyTranscript('hello', sig, x)).toBe(true);
    expect(verifyTranscript('hellO', sig, x)).toBe(false);
    expect(verifyTranscript('hello', 'garbage', x)).toBe(false);
    expect(verifyTranscript('hello', sig, 'not a key')).toBe(false);
    const raw = Buffer.from(x, 'base64url');
    expect(fingerprint(x)).toBe('SHA256:' + createHash('sha256').update(raw).digest('base64').replace(/=+$/, ''));
  });

  it('keys the pair MAC by the normalized code, so a code typed loosely gives the same MAC', () => {
    const mac = pairMac('ABCDEFGH1JK10', 'transcript');
    expect(mac).toBe(createHmac('sha256', 'ABCDEFGH1JK10').update('transcript').digest('base64url'));
    expect(pairMac('abcd-efgh-ijkl-o', 'transcript')).toBe(mac);
    expect(pairMac('ABCDEFGH1JK11', 'transcript')).not.toBe(mac);
  });

  it('compares MACs exactly', () => {
    const mac = pairMac('ABCDEFGH1JK10', 't');
    expect(macEquals(mac, mac)).toBe(true);
    expect(macEquals(mac, mac.slice(0, -1))).toBe(false);
    // Base64url that decodes to the same bytes is still a different MAC on the wire.
    expect(macEquals(mac, `${mac}=`)).toBe(false);
  });
});
