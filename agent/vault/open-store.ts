import { EnvStore } from './env-store.js';
import { VaultError, firstLine, isVaultError } from './errors.js';
import { FileStore } from './file-store.js';
import { KeychainStore, keychainService } from './keychain-store.js';
import { MemoryStore } from './memory-store.js';
import { STORE_KINDS, type SecretStore, type StoreKind } from './store.js';

export interface OpenStoreOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  passphrase?: () => Promise<string>;
}

/** Opens one store; failures are VaultErrors whose one-line message says what to do. */
export async function openStore(kind: StoreKind, opts: OpenStoreOptions): Promise<SecretStore> {
  const env = opts.env ?? process.env;
  switch (kind) {
    case 'keychain':
      return KeychainStore.open({ service: keychainService(env) });
    case 'file':
      return FileStore.open({ home: opts.home, env, passphrase: opts.passphrase });
    case 'env':
      return new EnvStore(env);
    case 'memory':
      return new MemoryStore();
    default:
      // Reached only from untyped input such as a --store flag.
      throw new VaultError('not-found', `no secret store called '${String(kind)}': use ${STORE_KINDS.join(', ')}`);
  }
}

/** The system keychain when one answers, else the encrypted file. */
export async function defaultStoreKind(opts: { home: string; env?: NodeJS.ProcessEnv }): Promise<StoreKind> {
  return (await defaultStoreChoice(opts)).kind;
}

/** The default store, and when it is the file, why the keychain was not used (to tell the user). */
export async function defaultStoreChoice(opts: { home: string; env?: NodeJS.ProcessEnv }): Promise<{ kind: StoreKind; keychainUnavailable?: string }> {
  try {
    await openStore('keychain', opts);
    return { kind: 'keychain' };
  } catch (err) {
    if (isVaultError(err, 'keychain-unavailable')) return { kind: 'file', keychainUnavailable: firstLine(err.cause ?? err) };
    throw err;
  }
}
