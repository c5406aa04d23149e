import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isVaultError } from '../vault/index.js';
import { tempDir } from '../testing/temp.js';
import { askVaultPassphrase } from './vault-passphrase.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

function asker(answers: string[], keychainUnavailable?: string) {
  const asked: string[] = [];
  const said: string[] = [];
  const ask = { home: tmp.dir, keychainUnavailable, prompt: async (q: string) => (asked.push(q), answers.shift() ?? ''), say: (l: string) => void said.push(l) };
  return { ask, asked, said };
}

describe('the file vault passphrase at a terminal', () => {
  it('asks twice for a new vault, after saying why the file is used', async () => {
    const { ask, asked, said } = asker(['tiger lily', 'tiger lily'], 'Could not connect: No such file or directory');
    expect(await askVaultPassphrase(ask)).toBe('tiger lily');
    expect(asked).toEqual(['new vault passphrase: ', 'the same passphrase again: ']);
    expect(said).toEqual([`no system keychain (Could not connect: No such file or directory), so secrets go to the encrypted file ${join(tmp.dir, 'vault.enc')}; choose its passphrase (TETHER_VAULT_PASSPHRASE gives it without a prompt)`]);
  });

  it('refuses two different answers with passphrase-mismatch', async () => {
    const err = await askVaultPassphrase(asker(['tiger lily', 'tiger lilly']).ask).catch((e: unknown) => e);
    expect(isVaultError(err, 'passphrase-mismatch')).toBe(true);
    expect((err as Error).message).toBe('the two passphrases differ: nothing was stored; run the command again');
  });

  it('asks once to unlock a vault that exists', async () => {
    writeFileSync(join(tmp.dir, 'vault.enc'), '{}');
    const { ask, asked, said } = asker(['tiger lily']);
    expect(await askVaultPassphrase(ask)).toBe('tiger lily');
    expect(asked).toEqual(['vault passphrase: ']);
    expect(said).toEqual([]);
  });
});
