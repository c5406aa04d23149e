import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretStore, StoreKind } from '../secret-stores.js';
import { MemoryStore } from '../vault/index.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join('/tmp', 'tt-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One memory store per kind, so tests can look inside. */
export function memoryStores(): { open: (kind: StoreKind) => Promise<SecretStore>; stores: Map<StoreKind, MemoryStore> } {
  const stores = new Map<StoreKind, MemoryStore>();
  return {
    stores,
    open: async (kind) => {
      let s = stores.get(kind);
      if (!s) stores.set(kind, (s = new MemoryStore()));
      return s;
    },
  };
}
