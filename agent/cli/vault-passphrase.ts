import { existsSync } from 'node:fs';
import { VaultError, vaultPath } from '../vault/index.js';

export interface PassphraseAsk {
  home: string;
  /** Why the default store is the file, when it was chosen because no keychain answered. */
  keychainUnavailable: string | undefined;
  /** A hidden prompt at the terminal. */
  prompt: (question: string) => Promise<string>;
  say: (line: string) => void;
}

/** One line for a person on why secrets go to the file vault and how to unlock it without a prompt. */
export function fileVaultNote(home: string, keychainUnavailable: string | undefined): string {
  return `${keychainUnavailable ? `no system keychain (${keychainUnavailable}), so ` : ''}secrets go to the encrypted file ${vaultPath(home)}`;
}

/**
 * The file vault's passphrase at a terminal: once to unlock a vault that exists; twice, after
 * saying why the file is used, to create one, so a typo cannot lock the user out of what they
 * store next. A mismatch throws before anything is written.
 */
export async function askVaultPassphrase(ask: PassphraseAsk): Promise<string> {
  if (existsSync(vaultPath(ask.home))) return ask.prompt('vault passphrase: ');
  ask.say(`${fileVaultNote(ask.home, ask.keychainUnavailable)}; choose its passphrase (TETHER_VAULT_PASSPHRASE gives it without a prompt)`);
  const first = await ask.prompt('new vault passphrase: ');
  if (!first) throw new VaultError('no-passphrase', 'no passphrase given: nothing was stored');
  const second = await ask.prompt('the same passphrase again: ');
  if (second !== first) throw new VaultError('passphrase-mismatch', 'the two passphrases differ: nothing was stored; run the command again');
  return first;
}
