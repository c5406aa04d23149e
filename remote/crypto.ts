import crypto, { type KeyObject } from 'node:crypto';

/** The crypto contract shared with the agent (see .tmp/common.md): Ed25519, HMAC-SHA256, OpenSSH-style fingerprints. */

export function publicKeyText(key: KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (!x) throw new Error('not an Ed25519 public key');
  return x;
}

export function publicKeyFromText(x: string): KeyObject {
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

export function signText(text: string, privateKey: KeyObject): string {
  return crypto.sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64url');
}

/** False for any malformed key or signature: callers only need yes or no. */
export function verifyText(text: string, sig: string, publicKey: string): boolean {
  try {
    return crypto.verify(null, Buffer.from(text, 'utf8'), publicKeyFromText(publicKey), Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

export function hmacText(key: string, text: string): string {
  return crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(text, 'utf8').digest('base64url');
}

/** 'SHA256:' + unpadded standard base64 of sha256(raw key), as `ssh-keygen -l` prints. */
export function fingerprint(publicKey: string): string {
  const digest = crypto.createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

export function randomText(bytes: number): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

/** Constant-time comparison of two base64url strings (length leaks, content does not). */
export function safeEqualText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}
