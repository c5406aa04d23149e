import { createHash, createHmac, createPublicKey, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { normalizePairCode } from '../index.js';

/**
 * The crypto both ends of the link share (docs/ARCHITECTURE.md, "Handshake"): Ed25519 over
 * the handshake transcript, HMAC-SHA256 keyed by the pair code, OpenSSH-style fingerprints.
 */

/** An Ed25519 public key in its wire form: the raw 32 bytes, base64url without padding. */
export function wirePublicKey(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (!x) throw new Error('not an Ed25519 key');
  return x;
}

export function signTranscript(transcript: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(transcript, 'utf8'), privateKey).toString('base64url');
}

/** False for any malformed key or signature: callers only need yes or no. */
export function verifyTranscript(transcript: string, sig: string, publicKey: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, Buffer.from(transcript, 'utf8'), key, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

/** HMAC-SHA256 of the transcript keyed by the normalized pair code, base64url. */
export function pairMac(code: string, transcript: string): string {
  return createHmac('sha256', Buffer.from(normalizePairCode(code), 'utf8')).update(transcript, 'utf8').digest('base64url');
}

/** Constant-time string comparison (the length leaks, the content does not). */
export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** 'SHA256:' + unpadded standard base64 of sha256(raw key), as `ssh-keygen -l` prints. */
export function fingerprint(publicKey: string): string {
  const digest = createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** `bytes` random bytes as base64url: nonces, tokens, ids. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
