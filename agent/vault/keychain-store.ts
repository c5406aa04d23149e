import { createHash } from 'node:crypto';
import path from 'node:path';
import { VaultError, firstLine } from './errors.js';
import { probeKeychain } from './keychain-probe.js';
import type { SecretStore } from './store.js';

type Keytar = typeof import('keytar');

/** The probe gets this long: keytar can block forever when no Secret Service answers on D-Bus. */
export const KEYCHAIN_PROBE_TIMEOUT_MS = 3_000;
// Later calls may wait for the user to unlock a locked keyring, so they get longer.
const KEYCHAIN_CALL_TIMEOUT_MS = 30_000;
const UNAVAILABLE = 'no system keychain: install libsecret / run a Secret Service, or use --store file';

/** 'tether', or 'tether:<12 hex>' per TETHER_HOME so several instances and tests never collide. */
export function keychainService(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.TETHER_HOME;
  if (!home) return 'tether';
  return 'tether:' + createHash('sha256').update(path.resolve(home), 'utf8').digest('hex').slice(0, 12);
}

export interface KeychainStoreOptions {
  service: string;
  probeTimeoutMs?: number;
}

/** Secrets in the system keychain (libsecret on Linux, Keychain on macOS, Credential Vault on Windows). */
export class KeychainStore implements SecretStore {
  readonly kind = 'keychain' as const;
  readonly writable = true;

  private constructor(
    private readonly keytar: Keytar,
    readonly service: string,
  ) {}

  /** Loads keytar and proves a keychain answers; otherwise VaultError 'keychain-unavailable'. */
  static async open(opts: KeychainStoreOptions): Promise<KeychainStore> {
    const keytar = await loadKeytar();
    const probe = await probeKeychain(opts.service, opts.probeTimeoutMs ?? KEYCHAIN_PROBE_TIMEOUT_MS);
    if (!probe.ok) throw new VaultError('keychain-unavailable', UNAVAILABLE, { cause: new Error(probe.reason) });
    return new KeychainStore(keytar, opts.service);
  }

  async get(account: string): Promise<string | undefined> {
    const secret = await this.call('read', () => this.keytar.getPassword(this.service, account));
    return secret ?? undefined;
  }

  async set(account: string, secret: string): Promise<void> {
    await this.call('store', () => this.keytar.setPassword(this.service, account, secret));
  }

  async delete(account: string): Promise<boolean> {
    return this.call('delete', () => this.keytar.deletePassword(this.service, account));
  }

  async accounts(): Promise<string[]> {
    const found = await this.call('list', () => this.keytar.findCredentials(this.service));
    return found.map((c) => c.account).sort();
  }

  // Bounded so a caller gets an answer; a call stuck in keytar itself cannot be cancelled.
  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(op(), KEYCHAIN_CALL_TIMEOUT_MS);
    } catch (err) {
      throw new VaultError(
        'keychain-unavailable',
        `the system keychain could not ${what} a secret (${firstLine(err)}): unlock it, or use --store file`,
        { cause: err },
      );
    }
  }
}

async function loadKeytar(): Promise<Keytar> {
  try {
    // Optional dependency with a native part: missing or unloadable just means "no keychain".
    const mod = (await import('keytar')) as Keytar & { default?: Keytar };
    return mod.default ?? mod;
  } catch (err) {
    throw new VaultError('keychain-unavailable', UNAVAILABLE, { cause: err });
  }
}

class KeychainTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeychainTimeout(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
