import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentError } from '../errors.js';
import { knownHostName, knownHostsLine } from './known-hosts.js';

/** A host key an SSH server presented that no known_hosts line vouches for (public, not secret). */
export interface PresentedHostKey {
  alias: string;
  host: string;
  port: number;
  keyType: string;
  key: Buffer;
  fingerprint: string;
  /** Where trusting it writes: the host's first UserKnownHostsFile. */
  knownHostsFile: string;
  /** The name its known_hosts line carries (HostKeyAlias, else `host` / `[host]:port`). */
  name?: string;
}

/** `host-key-unknown`, carrying the key so a person can trust it on first use. */
export class HostKeyUnknownError extends AgentError {
  constructor(
    readonly presented: PresentedHostKey,
    message: string,
  ) {
    super('host-key-unknown', message);
  }
}

/**
 * Trust on first use: appends the presented key to known_hosts as a hashed line, as
 * `ssh-keyscan -H` would. The caller checks first that the person saw this fingerprint.
 */
export function trustPresentedKey(p: PresentedHostKey): void {
  mkdirSync(dirname(p.knownHostsFile), { recursive: true, mode: 0o700 });
  const name = p.name ?? knownHostName(p.host, p.port);
  appendFileSync(p.knownHostsFile, knownHostsLine(name, p.keyType, p.key.toString('base64'), true, randomBytes(20)) + '\n', { mode: 0o600 });
}
