import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { normalizePairCode } from '../protocol/index.js';

/** The crypto contract shared with the daemon (common.md, "Crypto contract"). */

export interface Ed25519Pair {
  privateKey: KeyObject;
  /** Raw 32 bytes, base64url without padding: the form on the wire. */
  publicKey: string;
}

export function generateIdentity(): Ed25519Pair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: wirePublicKey(publicKey) };
}

export function wirePublicKey(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (!x) throw new Error('not an Ed25519 key');
  return x;
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function identityFromPem(pem: string): Ed25519Pair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('stored agent identity is not an Ed25519 key');
  return { privateKey, publicKey: wirePublicKey(createPublicKey(privateKey)) };
}

export function signTranscript(transcript: string, privateKey: KeyObject): string {
  return sign(null, Buffer.from(transcript, 'utf8'), privateKey).toString('base64url');
}

export function verifyTranscript(transcript: string, sig: string, publicKey: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, Buffer.from(transcript, 'utf8'), key, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

/** HMAC-SHA256 keyed by the normalized pair code, base64url. */
export function pairMac(code: string, transcript: string): string {
  return createHmac('sha256', Buffer.from(normalizePairCode(code), 'utf8')).update(transcript, 'utf8').digest('base64url');
}

export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** OpenSSH style: 'SHA256:' + standard base64 without padding of sha256(raw key). */
export function fingerprint(publicKey: string): string {
  const digest = createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64');
  return 'SHA256:' + digest.replace(/=+$/, '');
}

export function newLeaseId(): string {
  return 'ls_' + randomBytes(16).toString('base64url');
}
