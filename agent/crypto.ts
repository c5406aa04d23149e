import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { randomToken, wirePublicKey } from '../protocol/node/crypto.js';

/** The laptop's own keys and ids; the crypto both ends share is protocol/node/crypto.ts. */

export interface Ed25519Pair {
  privateKey: KeyObject;
  /** Raw 32 bytes, base64url without padding: the form on the wire. */
  publicKey: string;
}

export function generateIdentity(): Ed25519Pair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: wirePublicKey(publicKey) };
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function identityFromPem(pem: string): Ed25519Pair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('stored agent identity is not an Ed25519 key');
  return { privateKey, publicKey: wirePublicKey(createPublicKey(privateKey)) };
}

export function newLeaseId(): string {
  return 'ls_' + randomToken(16);
}
