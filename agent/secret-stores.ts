import type { SecretStore, StoreKind } from './vault/index.js';

export type { SecretStore, StoreKind } from './vault/index.js';

export type StoreOpener = (kind: StoreKind) => Promise<SecretStore>;

export const credentialAccount = (name: string): string => `credential:${name}`;
export const IDENTITY_ACCOUNT = 'agent-identity';

/**
 * Opens each kind once and keeps it: a keychain or file store is costly to open, and the
 * memory store must be the same object for the whole life of the agent.
 */
export class StoreShelf {
  private readonly opened = new Map<StoreKind, Promise<SecretStore>>();
  constructor(private readonly opener: StoreOpener) {}

  open(kind: StoreKind): Promise<SecretStore> {
    let store = this.opened.get(kind);
    if (!store) {
      store = this.opener(kind);
      this.opened.set(kind, store);
      // A failed open (wrong passphrase, no keychain) may succeed next time.
      store.catch(() => this.opened.delete(kind));
    }
    return store;
  }
}
