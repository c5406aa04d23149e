import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, unlinkSync } from 'node:fs';
import * as z from 'zod';
import { DisplayName, ProviderName, PublicKey, ServerId } from '../protocol/index.js';
import { AgentError } from './errors.js';

export const STORE_KINDS = ['keychain', 'file', 'env', 'memory'] as const;
export const StoreKindSchema = z.enum(STORE_KINDS);
export type StoreKind = z.infer<typeof StoreKindSchema>;

export const CredentialEntry = z.object({
  name: ProviderName,
  provider: ProviderName,
  baseUrl: z.string().url().optional(),
  /** `custom` credentials only: the header the key goes in upstream, and what precedes it. */
  keyHeader: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/).optional(),
  keyPrefix: z.string().max(32).optional(),
  store: StoreKindSchema,
  addedAt: z.string(),
  /** Servers (as the agent names them) allowed to use it; absent = every server. */
  servers: z.array(z.string().max(512)).max(64).optional(),
  /** Forward mode: the secret is this command's output, run on the laptop (agent/forward-credential.ts). */
  command: z.string().min(1).max(4096).optional(),
  /** Forward mode: how long one minted secret is valid. */
  ttlMs: z.number().int().min(5000).max(24 * 60 * 60 * 1000).optional(),
  /**
   * A subscription login (the vault holds its tokens): lent to the vendor's own client only,
   * unless `anyClient`. `tokenUrl` replaces the vendor's token endpoint (a gateway, a test's mock).
   */
  subscription: z.object({ anyClient: z.boolean().optional(), tokenUrl: z.string().url().optional() }).optional(),
});
export type CredentialEntry = z.infer<typeof CredentialEntry>;

export const PinnedServer = z.object({
  url: z.string(),
  serverId: ServerId,
  serverKey: PublicKey,
  fingerprint: z.string(),
  pairedAt: z.string(),
  /** wss:// servers: the daemon's TLS certificate fingerprint, pinned at pairing. */
  tlsFingerprint: z.string().max(100).optional(),
});
export type PinnedServer = z.infer<typeof PinnedServer>;

/** config.json: everything the agent remembers that is not a secret. */
export const AgentConfigFile = z.object({
  name: DisplayName.optional(),
  identity: z.object({ publicKey: PublicKey, store: StoreKindSchema }).optional(),
  credentials: z.array(CredentialEntry).default([]),
  servers: z.record(z.string(), PinnedServer).default({}),
});
export type AgentConfigFile = z.infer<typeof AgentConfigFile>;

export function readConfig(file: string): AgentConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { credentials: [], servers: {} };
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AgentError('bad-config', `${file} is not valid JSON: fix or remove it`);
  }
  const parsed = AgentConfigFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentError('bad-config', `${file}: ${issue?.path.join('.') || 'config'}: ${issue?.message ?? 'invalid'}; fix or remove it`);
  }
  return parsed.data;
}

/** Temp file + rename, so a crash never leaves half a config; 0600 because it names servers and keys. */
export function writeConfig(file: string, config: AgentConfigFile): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw err;
  }
}

/** Read, change, write: config.json is small and changes rarely. */
export function updateConfig(file: string, change: (config: AgentConfigFile) => void): AgentConfigFile {
  const config = readConfig(file);
  change(config);
  writeConfig(file, config);
  return config;
}
