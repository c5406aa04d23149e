/** The contract every secret store keeps; the rest of agent/ sees only this. */
export type StoreKind = 'keychain' | 'file' | 'env' | 'memory';

export const STORE_KINDS: readonly StoreKind[] = ['keychain', 'file', 'env', 'memory'];

export interface SecretStore {
  readonly kind: StoreKind;
  readonly writable: boolean;
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export function isStoreKind(value: string): value is StoreKind {
  return (STORE_KINDS as readonly string[]).includes(value);
}
