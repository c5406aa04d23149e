import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VaultError, firstLine } from './errors.js';
import type { SecretStore } from './store.js';
import { deriveKey, freshKdf, openVault, parseEnvelope, sealVault, type KdfParams } from './vault-envelope.js';

export const VAULT_FILE = 'vault.enc';

export interface FileStoreOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  passphrase?: () => Promise<string>;
}

export function vaultPath(home: string): string {
  return path.join(home, VAULT_FILE);
}

/**
 * Secrets in `<home>/vault.enc`, encrypted with a key derived from a passphrase. Every call
 * reads the file again (decrypting is cheap once the key is cached), so a CLI and a running
 * agent see each other's writes. Writes in this process are serialised.
 */
export class FileStore implements SecretStore {
  readonly kind = 'file' as const;
  readonly writable = true;
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly passphrase: string,
    // The KDF parameters a new file gets (reused when the vault file disappears under us).
    private readonly newFileKdf: KdfParams,
  ) {}

  /** Resolves the passphrase and, when the file exists, proves it right before returning. */
  static async open(opts: FileStoreOptions): Promise<FileStore> {
    const passphrase = await resolvePassphrase(opts);
    const store = new FileStore(vaultPath(opts.home), passphrase, freshKdf());
    await store.load();
    return store;
  }

  async get(account: string): Promise<string | undefined> {
    const { secrets } = await this.load();
    return secrets.get(account);
  }

  async set(account: string, secret: string): Promise<void> {
    await this.update((secrets) => {
      secrets.set(account, secret);
      return true;
    });
  }

  async delete(account: string): Promise<boolean> {
    return this.update((secrets) => secrets.delete(account));
  }

  async accounts(): Promise<string[]> {
    const { secrets } = await this.load();
    return [...secrets.keys()].sort();
  }

  /** Read-modify-write; `change` returns false when nothing changed and no write is needed. */
  private update(change: (secrets: Map<string, string>) => boolean): Promise<boolean> {
    const run = this.writes.then(async () => {
      const { secrets, kdf } = await this.load();
      if (!change(secrets)) return false;
      const key = await deriveKey(this.passphrase, kdf);
      const envelope = sealVault(secrets, key, kdf);
      await writeAtomic(this.file, JSON.stringify(envelope) + '\n');
      return true;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<{ secrets: Map<string, string>; kdf: KdfParams }> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { secrets: new Map(), kdf: this.newFileKdf };
      throw err;
    }
    const envelope = parseEnvelope(text, this.file);
    const key = await deriveKey(this.passphrase, envelope.kdf);
    return { secrets: openVault(envelope, key, this.file), kdf: envelope.kdf };
  }
}

async function resolvePassphrase(opts: FileStoreOptions): Promise<string> {
  const fromEnv = (opts.env ?? process.env).TETHER_VAULT_PASSPHRASE;
  if (fromEnv) return fromEnv;
  const noPassphrase = 'no vault passphrase: set TETHER_VAULT_PASSPHRASE or run from a terminal';
  if (!opts.passphrase) throw new VaultError('no-passphrase', noPassphrase);
  let typed: string;
  try {
    typed = await opts.passphrase();
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw new VaultError('no-passphrase', `${noPassphrase} (${firstLine(err)})`, { cause: err });
  }
  if (!typed) throw new VaultError('no-passphrase', noPassphrase);
  return typed;
}

/** Temp file in the same folder, fsync, rename: readers see the old vault or the new, never half. */
async function writeAtomic(file: string, contents: string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask says
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
    await handle.close();
    await fs.rename(temp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse fsync on a directory, which is fine.
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}
