// RevokedHostKeys (ssh_config): a KRL made by `ssh-keygen -k`, or a plain list of public keys.
// As in OpenSSH (sshkey_check_revoked), a file that cannot be read or parsed fails the check:
// the connection is refused, never let through.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keyTypeOf } from './known-hosts.js';

export type RevocationResult = { state: 'revoked' } | { state: 'not-revoked' } | { state: 'error'; reason: string };

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
const SECTION = { certificates: 1, explicitKey: 2, sha1: 3, signature: 4, sha256: 5 } as const;

export function checkRevokedKeys(file: string, keyBlob: Buffer): RevocationResult {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    return { state: 'error', reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  try {
    const revoked = data.subarray(0, 8).equals(KRL_MAGIC) ? krlRevokes(data, keyBlob) : listRevokes(data.toString('utf8'), keyBlob);
    return { state: revoked ? 'revoked' : 'not-revoked' };
  } catch (err) {
    return { state: 'error', reason: `${file} is not a valid KRL or key list: ${(err as Error).message}` };
  }
}

/** sshkey_in_file(): one public key per line (`type base64 [comment]`); a line that does not parse is an error. */
function listRevokes(text: string, keyBlob: Buffer): boolean {
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (!line || line.startsWith('#')) continue;
    const [type, b64] = line.split(/[ \t]+/);
    const blob = b64 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : undefined;
    if (!blob || keyTypeOf(blob) !== type) throw new Error(`line ${i + 1} is not a public key`);
    if (blob.equals(keyBlob)) return true;
  }
  return false;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  string(): Buffer {
    const len = this.u32();
    this.need(len);
    const s = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}

/** PROTOCOL.krl: plain keys are revoked by explicit blob or by SHA1/SHA256 of the blob. */
function krlRevokes(data: Buffer, keyBlob: Buffer): boolean {
  const r = new Reader(data);
  r.skip(8);
  if (r.u32() !== 1) throw new Error('unsupported KRL format version');
  r.skip(24); // krl_version, generated_date, flags
  r.string(); // reserved
  r.string(); // comment
  const sha1 = createHash('sha1').update(keyBlob).digest();
  const sha256 = createHash('sha256').update(keyBlob).digest();
  let revoked = false;
  let signed = false;
  while (!r.done) {
    const type = r.u8();
    if (type === SECTION.signature) {
      // Signatures authenticate KRLs fetched over untrusted channels; ssh checks none for RevokedHostKeys.
      r.string();
      r.string();
      signed = true;
      continue;
    }
    if (signed) throw new Error('a section after the signature');
    const section = new Reader(r.string());
    if (type === SECTION.certificates) continue; // the built-in transport accepts no certificates
    const want = type === SECTION.explicitKey ? keyBlob : type === SECTION.sha1 ? sha1 : type === SECTION.sha256 ? sha256 : undefined;
    if (!want) throw new Error(`unknown section type ${type}`);
    while (!section.done) if (section.string().equals(want)) revoked = true;
  }
  return revoked;
}
