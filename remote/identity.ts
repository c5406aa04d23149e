import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePrivateDir, writeFileAtomic } from './private-files.js';
import { fingerprint, wirePublicKey } from '../protocol/node/crypto.js';

/** The daemon's Ed25519 identity: the key laptops pin at pairing. An identity, not a credential. */
export interface DaemonIdentity {
  privateKey: KeyObject;
  serverKey: string;
  fingerprint: string;
}

export function loadOrCreateIdentity(file: string): DaemonIdentity {
  ensurePrivateDir(path.dirname(file));
  let privateKey: KeyObject;
  if (fs.existsSync(file)) {
    privateKey = crypto.createPrivateKey(fs.readFileSync(file, 'utf8'));
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} does not hold an Ed25519 key: move it away and restart`);
  } else {
    privateKey = crypto.generateKeyPairSync('ed25519').privateKey;
    writeFileAtomic(file, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  }
  const serverKey = wirePublicKey(crypto.createPublicKey(privateKey));
  return { privateKey, serverKey, fingerprint: fingerprint(serverKey) };
}

/** The hostname, cleaned to what protocol's ServerId accepts. */
export function defaultServerId(hostname: string = os.hostname()): string {
  const cleaned = hostname.replace(/[^\w.@:-]/g, '-').slice(0, 128);
  return cleaned || 'tether-server';
}

export interface AuthorizedAgent {
  agentKey: string;
  name: string;
  fingerprint: string;
  pairedAt: string;
}

/**
 * Paired laptops' public keys. Read from disk on every lookup so that removing a line by
 * hand takes effect without a restart; written atomically.
 */
export class AuthorizedAgents {
  constructor(private readonly file: string) {}

  list(): AuthorizedAgent[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error(`${this.file} is not a JSON array: fix or remove it`);
    return parsed.filter(
      (a): a is AuthorizedAgent => typeof a === 'object' && a !== null && typeof (a as AuthorizedAgent).agentKey === 'string',
    );
  }

  find(agentKey: string): AuthorizedAgent | undefined {
    return this.list().find((a) => a.agentKey === agentKey);
  }

  /** Read-modify-write under a lock file: two laptops attaching at the same moment both stay authorized. */
  add(agentKey: string, name: string, now = new Date()): AuthorizedAgent {
    const entry: AuthorizedAgent = { agentKey, name, fingerprint: fingerprint(agentKey), pairedAt: now.toISOString() };
    ensurePrivateDir(path.dirname(this.file));
    withLock(`${this.file}.lock`, () => {
      const others = this.list().filter((a) => a.agentKey !== agentKey);
      writeFileAtomic(this.file, JSON.stringify([...others, entry], null, 2) + '\n', 0o600);
    });
    return entry;
  }

}

/** O_EXCL lock file holding our pid (a dead owner's lock is taken over); waits up to 5 s. */
function withLock(lock: string, f: () => void): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(lock, 'utf8').trim() || 0);
    } catch {
      continue; // released just now: try again
    }
    if (owner > 0 && !alive(owner)) fs.rmSync(lock, { force: true });
    else if (Date.now() > deadline) throw new Error(`${lock} is held by pid ${owner}: remove it if no tether attach is running`);
    else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  try {
    f();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
