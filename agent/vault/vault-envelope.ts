import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt } from 'node:crypto';
import { VaultError } from './errors.js';

/**
 * The on-disk shape of the file store and the crypto around it: scrypt turns the passphrase
 * into a 32-byte key, AES-256-GCM seals the JSON map of account → secret. No I/O here.
 */
export interface VaultEnvelope {
  v: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

export interface KdfParams {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
}

export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Bounds on what a file may ask of scrypt, so a tampered header cannot make us eat gigabytes.
const MAX_LOG2_N = 20;
const MAX_R = 32;
const MAX_P = 16;

export function freshKdf(): KdfParams {
  return { ...DEFAULT_KDF, salt: randomBytes(SALT_BYTES) };
}

// scrypt is slow on purpose; derive each (passphrase, salt, params) once per process.
const keyCache = new Map<string, Promise<Buffer>>();

export function deriveKey(passphrase: string, kdf: KdfParams): Promise<Buffer> {
  const id = [
    createHash('sha256').update(passphrase, 'utf8').digest('base64'),
    kdf.salt.toString('base64'),
    kdf.N,
    kdf.r,
    kdf.p,
  ].join(':');
  let key = keyCache.get(id);
  if (!key) {
    key = scryptAsync(passphrase, kdf);
    keyCache.set(id, key);
    key.catch(() => keyCache.delete(id));
  }
  return key;
}

function scryptAsync(passphrase: string, kdf: KdfParams): Promise<Buffer> {
  // Node refuses when 128·N·r·p reaches maxmem (default 32 MiB = exactly our N=2^15, r=8).
  const maxmem = 128 * kdf.N * kdf.r * kdf.p * 2;
  return new Promise((resolve, reject) => {
    scrypt(passphrase, kdf.salt, KEY_BYTES, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Binds the header to the ciphertext: editing N, r, p or salt fails authentication. */
function headerAad(kdf: KdfParams): Buffer {
  return Buffer.from(`tether-vault:v1:scrypt:${kdf.N}:${kdf.r}:${kdf.p}:${kdf.salt.toString('base64')}`, 'utf8');
}

export function sealVault(secrets: ReadonlyMap<string, string>, key: Buffer, kdf: KdfParams): VaultEnvelope {
  const iv = randomBytes(IV_BYTES); // fresh per write: GCM must never reuse an IV under one key
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(headerAad(kdf));
  const plain = Buffer.from(JSON.stringify(Object.fromEntries(secrets)), 'utf8');
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  plain.fill(0);
  return {
    v: 1,
    kdf: 'scrypt',
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    salt: kdf.salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

export interface ParsedEnvelope {
  kdf: KdfParams;
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
}

/** Checks the envelope's shape; anything off is 'corrupt' (never 'wrong-passphrase'). */
export function parseEnvelope(text: string, file: string): ParsedEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw corrupt(file, 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null) throw corrupt(file, 'not an object');
  const e = raw as Record<string, unknown>;
  if (e.v !== 1) throw corrupt(file, `unknown version ${JSON.stringify(e.v)}`);
  if (e.kdf !== 'scrypt') throw corrupt(file, `unknown kdf ${JSON.stringify(e.kdf)}`);
  const { N, r, p } = e;
  if (!isInt(N) || N < 2 || N > 2 ** MAX_LOG2_N || (N & (N - 1)) !== 0) throw corrupt(file, 'bad scrypt N');
  if (!isInt(r) || r < 1 || r > MAX_R) throw corrupt(file, 'bad scrypt r');
  if (!isInt(p) || p < 1 || p > MAX_P) throw corrupt(file, 'bad scrypt p');
  const salt = base64Field(e.salt, file, 'salt');
  const iv = base64Field(e.iv, file, 'iv');
  const tag = base64Field(e.tag, file, 'tag');
  const data = base64Field(e.data, file, 'data');
  if (salt.length < 8) throw corrupt(file, 'salt too short');
  if (iv.length !== IV_BYTES) throw corrupt(file, 'bad iv length');
  if (tag.length !== TAG_BYTES) throw corrupt(file, 'bad tag length');
  return { kdf: { N, r, p, salt }, iv, tag, data };
}

/** Decrypts; a failed GCM tag means the passphrase is wrong (or the bytes were altered). */
export function openVault(envelope: ParsedEnvelope, key: Buffer, file: string): Map<string, string> {
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, envelope.iv);
    decipher.setAAD(headerAad(envelope.kdf));
    decipher.setAuthTag(envelope.tag);
    plain = Buffer.concat([decipher.update(envelope.data), decipher.final()]);
  } catch {
    throw new VaultError(
      'wrong-passphrase',
      `wrong passphrase for ${file}: check TETHER_VAULT_PASSPHRASE or the passphrase you typed`,
    );
  }
  let map: unknown;
  try {
    map = JSON.parse(plain.toString('utf8'));
  } catch {
    throw corrupt(file, 'decrypted contents are not JSON');
  } finally {
    plain.fill(0);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw corrupt(file, 'contents are not a map');
  const secrets = new Map<string, string>();
  for (const [account, secret] of Object.entries(map)) {
    if (typeof secret !== 'string') throw corrupt(file, 'a secret is not a string');
    secrets.set(account, secret);
  }
  return secrets;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function base64Field(v: unknown, file: string, name: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw corrupt(file, `bad ${name}`);
  return Buffer.from(v, 'base64');
}

function corrupt(file: string, why: string): VaultError {
  return new VaultError('corrupt', `${file} is corrupt (${why}): restore it from a backup or move it aside and add the credentials again`);
}
