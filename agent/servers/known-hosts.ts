import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** What known_hosts says about a presented host key. */
export type HostKeyVerdict =
  | { state: 'known' }
  | { state: 'unknown'; fingerprint: string; keyType: string }
  | { state: 'changed'; fingerprint: string; keyType: string; file: string; line: number }
  | { state: 'revoked'; fingerprint: string; keyType: string; file: string; line: number };

interface Entry {
  marker: '' | '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

/** OpenSSH's fingerprint of a host key blob: SHA256:<base64 without padding>. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH public key blob ("ssh-ed25519", …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** How known_hosts names a host: `host`, or `[host]:port` when the port is not 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

function readEntries(files: string[]): Entry[] {
  const entries: Entry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const words = line.split(/\s+/);
      let marker: Entry['marker'] = '';
      if (words[0] === '@revoked' || words[0] === '@cert-authority') marker = words.shift() as Entry['marker'];
      if (words.length < 3) return;
      entries.push({ marker, hosts: words[0]!, keyType: words[1]!, key: Buffer.from(words[2]!, 'base64'), file, line: i + 1 });
    });
  }
  return entries;
}

/** One host field entry: plain (with * ? globs and !negation) or hashed `|1|salt|hash`. */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mine = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    const theirs = Buffer.from(hash, 'base64');
    return mine.length === theirs.length && timingSafeEqual(mine, theirs);
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = (negated ? pattern.slice(1) : pattern).toLowerCase();
    const re = new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (re.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * Checks a presented host key as ssh's StrictHostKeyChecking=yes would: a matching entry is
 * known; a revoked key or a different key of the same type is refused; no entry is unknown.
 */
export function verifyHostKey(files: string[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = knownHostName(host, port);
  const keyType = keyTypeOf(keyBlob);
  const fingerprint = sshFingerprint(keyBlob);
  const entries = readEntries(files).filter((e) => e.marker !== '@cert-authority' && hostFieldMatches(e.hosts, name));
  const revoked = readEntries(files).find((e) => e.marker === '@revoked' && e.key.equals(keyBlob));
  if (revoked) return { state: 'revoked', fingerprint, keyType, file: revoked.file, line: revoked.line };
  if (entries.some((e) => e.marker === '' && e.key.equals(keyBlob))) return { state: 'known' };
  const sameType = entries.find((e) => e.marker === '' && e.keyType === keyType);
  if (sameType) return { state: 'changed', fingerprint, keyType, file: sameType.file, line: sameType.line };
  return { state: 'unknown', fingerprint, keyType };
}

/** Key types known_hosts holds for a host, so the handshake can ask for one of those first. */
export function knownKeyTypes(files: string[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  return [...new Set(readEntries(files).filter((e) => e.marker === '' && hostFieldMatches(e.hosts, name)).map((e) => e.keyType))];
}

/** A hashed known_hosts line for (host, port, key), as `ssh-keyscan -H` writes it. */
export function hashedKnownHostsLine(host: string, port: number, keyType: string, keyBase64: string, salt: Buffer): string {
  const hash = createHmac('sha1', salt).update(knownHostName(host, port)).digest('base64');
  return `|1|${salt.toString('base64')}|${hash} ${keyType} ${keyBase64}`;
}
