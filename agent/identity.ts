import { hostname } from 'node:os';
import type { StoreKind } from './config.js';
import { readConfig, updateConfig } from './config.js';
import { generateIdentity, identityFromPem, privateKeyToPem, type Ed25519Pair } from './crypto.js';
import { AgentError } from './errors.js';
import { IDENTITY_ACCOUNT, type StoreShelf } from './secret-stores.js';

export interface AgentIdentity extends Ed25519Pair {
  name: string;
}

/** A hostname made fit for DisplayName: letters, digits, ._@:+- only. */
export function defaultAgentName(host: string = hostname()): string {
  const cleaned = host.replace(/[^\w.@:+-]/g, '-').replace(/^[^\w.@:+-]+/, '').slice(0, 64);
  return cleaned || 'laptop';
}

/**
 * The agent's Ed25519 key: made on first use, kept in the vault (account `agent-identity`),
 * its public half and store recorded in config.json so later runs know where to look.
 */
export async function loadIdentity(opts: { configFile: string; stores: StoreShelf; store: StoreKind; name?: string }): Promise<AgentIdentity> {
  const config = readConfig(opts.configFile);
  const name = opts.name ?? config.name ?? defaultAgentName();
  const kind = config.identity?.store ?? opts.store;
  const store = await opts.stores.open(kind);
  const pem = await store.get(IDENTITY_ACCOUNT);
  if (pem) {
    const pair = identityFromPem(pem);
    if (config.identity?.publicKey !== pair.publicKey || config.name !== name) {
      updateConfig(opts.configFile, (c) => {
        c.identity = { publicKey: pair.publicKey, store: kind };
        c.name = name;
      });
    }
    return { ...pair, name };
  }
  if (!store.writable) {
    throw new AgentError('no-secret', `the ${kind} store is read-only and holds no agent identity: use --identity-store file or keychain`);
  }
  const pair = generateIdentity();
  await store.set(IDENTITY_ACCOUNT, privateKeyToPem(pair.privateKey));
  updateConfig(opts.configFile, (c) => {
    c.identity = { publicKey: pair.publicKey, store: kind };
    c.name = name;
  });
  return { ...pair, name };
}
