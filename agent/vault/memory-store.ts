import type { SecretStore } from './store.js';

/** Secrets that die with the process: tests, and credentials nobody should persist. */
export class MemoryStore implements SecretStore {
  readonly kind = 'memory' as const;
  readonly writable = true;
  private readonly secrets = new Map<string, string>();

  async get(account: string): Promise<string | undefined> {
    return this.secrets.get(account);
  }

  async set(account: string, secret: string): Promise<void> {
    this.secrets.set(account, secret);
  }

  async delete(account: string): Promise<boolean> {
    return this.secrets.delete(account);
  }

  async accounts(): Promise<string[]> {
    return [...this.secrets.keys()].sort();
  }
}
