// The laptop's secret stores. The rest of agent/ uses openStore() and the SecretStore contract.
export { type StoreKind, type SecretStore, STORE_KINDS, isStoreKind } from './store.js';
export { VaultError, type VaultErrorCode, isVaultError } from './errors.js';
export { openStore, defaultStoreKind, defaultStoreChoice, type OpenStoreOptions } from './open-store.js';
export { MemoryStore } from './memory-store.js';
export { EnvStore, envVariableFor } from './env-store.js';
export { FileStore, vaultPath, VAULT_FILE } from './file-store.js';
export { KeychainStore, keychainService, KEYCHAIN_PROBE_TIMEOUT_MS } from './keychain-store.js';
