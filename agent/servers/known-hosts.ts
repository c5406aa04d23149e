// known_hosts as OpenSSH reads it (hostfile.c, sshconnect.c check_host_key): which lines name a
// host, and what they say about a presented key. Only plain keys are checked here: the built-in
// transport never negotiates a host certificate, so @cert-authority lines can vouch for nothing.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchHostname } from './ssh-patterns.js';

export type Marker = '' | '@revoked' | '@cert-authority';

export interface KnownHostsEntry {
  marker: Marker;
  hosts: string;
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

/** What known_hosts says about a presented host key. */
export type HostKeyVerdict =
  | { state: 'known'; file: string; line: number }
  | { state: 'unknown'; fingerprint: string; keyType: string; name: string; caOnly: boolean }
  | { state: 'changed'; fingerprint: string; keyType: string; name: string; file: string; line: number }
  | { state: 'revoked'; fingerprint: string; keyType: string; name: string; file: string; line: number };

/** OpenSSH's fingerprint of a host key blob: SHA256:<base64 without padding>. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of an SSH public key blob ("ssh-ed25519", …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len > keyBlob.length - 4) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** Bits of an ssh-rsa key's modulus (blob: string type, mpint e, mpint n); 0 if malformed. */
export function rsaModulusBits(blob: Buffer): number {
  let pos = 0;
  const next = (): Buffer => {
    if (pos + 4 > blob.length) return Buffer.alloc(0);
    const len = blob.readUInt32BE(pos);
    pos += 4 + len;
    return blob.subarray(pos - len, pos);
  };
  next();
  next();
  let n = next();
  while (n.length && n[0] === 0) n = n.subarray(1);
  return n.length ? (n.length - 1) * 8 + (32 - Math.clz32(n[0]!)) : 0;
}

/** put_host_port(): `host`, or `[host]:port` when the port is not 22; lowercased as ssh does. */
export function knownHostName(host: string, port: number): string {
  return port === 22 || port === 0 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

const KEY_TYPE = /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com|ssh-xmss@openssh\.com)(-cert-v01@openssh\.com)?$/;

/** Every well-formed line of these files, in order; a missing file is empty, a bad line is skipped (as ssh does). */
export function readKnownHosts(files: string[]): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
      if (!line || line.startsWith('#')) return;
      const words = line.split(/[ \t]+/);
      let marker: Marker = '';
      if (words[0]!.startsWith('@')) {
        if (words[0] !== '@revoked' && words[0] !== '@cert-authority') return;
        marker = words.shift() as Marker;
      }
      const [hosts, keyType, b64] = words;
      if (!hosts || !keyType || !b64 || !KEY_TYPE.test(keyType) || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return;
      const key = Buffer.from(b64, 'base64');
      if (keyTypeOf(key) !== keyType) return;
      entries.push({ marker, hosts, keyType, key, file, line: i + 1 });
    });
  }
  return entries;
}

/** match_maybe_hashed(): `|1|salt|hash` compares HMAC-SHA1(salt, name); else a pattern list. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) {
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
    const mine = createHmac('sha1', Buffer.from(parts[2], 'base64')).update(name).digest();
    const theirs = Buffer.from(parts[3], 'base64');
    return mine.length === theirs.length && timingSafeEqual(mine, theirs);
  }
  return matchHostname(name, field) === 1;
}

export function entriesFor(entries: KnownHostsEntry[], name: string): KnownHostsEntry[] {
  return entries.filter((e) => hostFieldMatches(e.hosts, name));
}

type Status = { status: 'ok' | 'new' | 'changed' | 'revoked'; found?: KnownHostsEntry };

/** check_hostkeys_by_key_or_type() for a plain key: equal → ok; any other plain key → changed; @revoked wins. */
function statusOf(entries: KnownHostsEntry[], key: Buffer): Status {
  let result: Status = { status: 'new' };
  for (const e of entries) {
    if (e.marker !== '') continue;
    if (e.key.equals(key)) {
      result = { status: 'ok', found: e };
      break;
    }
    result = { status: 'changed', found: e };
  }
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', found: revoked };
  return result;
}

export interface HostKeyQuery {
  /** UserKnownHostsFile then GlobalKnownHostsFile, in order. */
  files: string[];
  hostName: string;
  port: number;
  /** HostKeyAlias: looked up verbatim instead of `[host]:port`. */
  alias?: string;
  /** CheckHostIP: the address connected to (not for ProxyCommand/ProxyJump). */
  ip?: string;
}

/** The name a host's lines carry: HostKeyAlias, else `host` / `[host]:port`. */
export function lookupName(q: Pick<HostKeyQuery, 'hostName' | 'port' | 'alias'>): string {
  return q.alias !== undefined ? q.alias.toLowerCase() : knownHostName(q.hostName, q.port);
}

/**
 * sshconnect.c check_host_key() for a plain key, read-only: a matching line is known; a
 * revoked key, or any other key listed for the name, is refused; nothing listed is unknown.
 * On a port other than 22 without HostKeyAlias, a line for the bare host also vouches.
 * With CheckHostIP, a different key listed for the address is refused too.
 */
export function verifyHostKey(q: HostKeyQuery, keyBlob: Buffer): HostKeyVerdict {
  const all = readKnownHosts(q.files);
  const name = lookupName(q);
  const keyType = keyTypeOf(keyBlob);
  const fingerprint = sshFingerprint(keyBlob);
  const mine = entriesFor(all, name);
  let { status, found } = statusOf(mine, keyBlob);
  if (status === 'new' && q.alias === undefined && q.port !== 22) {
    const bare = statusOf(entriesFor(all, knownHostName(q.hostName, 22)), keyBlob);
    if (bare.status === 'ok') ({ status, found } = bare);
  }
  if (status === 'revoked') return { state: 'revoked', fingerprint, keyType, name, file: found!.file, line: found!.line };
  if (status === 'changed') return { state: 'changed', fingerprint, keyType, name, file: found!.file, line: found!.line };
  if (q.ip !== undefined && q.ip !== q.hostName.toLowerCase()) {
    const ip = statusOf(entriesFor(all, knownHostName(q.ip, q.port)), keyBlob);
    if (ip.status === 'changed' || ip.status === 'revoked') return { state: ip.status, fingerprint, keyType, name: knownHostName(q.ip, q.port), file: ip.found!.file, line: ip.found!.line };
  }
  if (status === 'ok') return { state: 'known', file: found!.file, line: found!.line };
  return { state: 'unknown', fingerprint, keyType, name, caOnly: mine.some((e) => e.marker === '@cert-authority') };
}

/**
 * Plain key types listed for the host (order_hostkeyalgs()): the handshake asks for these first,
 * so a host with several keys presents the one known_hosts holds. Only the exact lookup name counts.
 */
export function knownKeyTypes(q: Pick<HostKeyQuery, 'files' | 'hostName' | 'port' | 'alias'>): string[] {
  const mine = entriesFor(readKnownHosts(q.files), lookupName(q));
  return [...new Set(mine.filter((e) => e.marker === '').map((e) => e.keyType))];
}

/** A known_hosts line as ssh writes it: `name type key`, or hashed (`HashKnownHosts yes`). */
export function knownHostsLine(name: string, keyType: string, keyBase64: string, hash: boolean, salt: Buffer = randomBytes(20)): string {
  if (!hash) return `${name} ${keyType} ${keyBase64}`;
  const digest = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${digest} ${keyType} ${keyBase64}`;
}

/** A hashed known_hosts line for (host, port, key), as `ssh-keyscan -H` writes it. */
export function hashedKnownHostsLine(host: string, port: number, keyType: string, keyBase64: string, salt: Buffer): string {
  return knownHostsLine(knownHostName(host, port), keyType, keyBase64, true, salt);
}

/** add_host_to_hostfile(): appends one line, making the folder (0700) and file (0600) if needed. */
export function addKnownHost(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, line + '\n', { mode: 0o600 });
}
