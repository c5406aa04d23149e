import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore, VaultError, openStore, vaultPath, type SecretStore } from './index.js';

let home: string;
let passphrase: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = fs.mkdtempSync(path.join('/tmp', 'tt-'));
  passphrase = 'pass-' + randomBytes(9).toString('hex');
  env = { TETHER_VAULT_PASSPHRASE: passphrase };
});

afterEach(() => {
  fs.rmSync(home, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<VaultError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VaultError);
  return err as VaultError;
}

function newSecret(): string {
  return 'sk-test-' + randomBytes(12).toString('hex');
}

describe('file store', () => {
  it('round-trips secrets and survives a reopen with the right passphrase', async () => {
    const store = await openStore('file', { home, env });
    expect(store.kind).toBe('file');
    expect(store.writable).toBe(true);
    const a = newSecret();
    const b = newSecret();
    expect(await store.get('credential:openai')).toBeUndefined();
    await store.set('credential:openai', a);
    await store.set('credential:anthropic', b);
    expect(await store.get('credential:openai')).toBe(a);

    // The passphrase may come from the callback instead of the environment.
    const again = await openStore('file', { home, env: {}, passphrase: async () => passphrase });
    expect(await again.get('credential:openai')).toBe(a);
    expect(await again.get('credential:anthropic')).toBe(b);
    expect(await (again as FileStore).accounts()).toEqual(['credential:anthropic', 'credential:openai']);

    expect(await again.delete('credential:openai')).toBe(true);
    expect(await again.delete('credential:openai')).toBe(false);
    // Each call reads the file, so the first instance sees the second one's delete.
    expect(await store.get('credential:openai')).toBeUndefined();
    expect(await store.get('credential:anthropic')).toBe(b);
  });

  it('serialises concurrent writes from one process without losing any', async () => {
    const store = await openStore('file', { home, env });
    const secrets = Array.from({ length: 8 }, () => newSecret());
    await Promise.all(secrets.map((s, i) => store.set(`credential:c${i}`, s)));
    const reopened = await openStore('file', { home, env });
    for (const [i, s] of secrets.entries()) expect(await reopened.get(`credential:c${i}`)).toBe(s);
  });

  it('refuses a wrong passphrase and leaves the file byte-for-byte untouched', async () => {
    const store = await openStore('file', { home, env });
    await store.set('credential:openai', newSecret());
    const file = vaultPath(home);
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(file, past, past); // so a rewrite within the same clock tick would still show
    const before = fs.readFileSync(file);
    const mtimeBefore = fs.statSync(file).mtimeMs;

    const err = await rejection(openStore('file', { home, env: { TETHER_VAULT_PASSPHRASE: passphrase + 'x' } }));
    expect(err.code).toBe('wrong-passphrase');
    expect(err.message).not.toContain(passphrase);

    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.statSync(file).mtimeMs).toBe(mtimeBefore);
    expect(fs.readdirSync(home)).toEqual(['vault.enc']);
  });

  it('needs a passphrase from the environment or the callback', async () => {
    expect((await rejection(openStore('file', { home, env: {} }))).code).toBe('no-passphrase');
    expect((await rejection(openStore('file', { home, env: {}, passphrase: async () => '' }))).code).toBe(
      'no-passphrase',
    );
    const noTerminal = async (): Promise<string> => {
      throw new Error('stdin is not a TTY');
    };
    expect((await rejection(openStore('file', { home, env: {}, passphrase: noTerminal }))).code).toBe(
      'no-passphrase',
    );
    expect(fs.existsSync(vaultPath(home))).toBe(false);
  });

  it('writes neither the secret nor the passphrase to disk, in a 0600 file', async () => {
    const store = await openStore('file', { home, env });
    const secret = newSecret();
    await store.set('credential:openai', secret);
    await store.set('credential:other', newSecret()); // a second write gets a fresh IV
    const bytes = fs.readFileSync(vaultPath(home));
    for (const needle of [secret, passphrase]) {
      // Plain, UTF-16 and the base64/hex spellings a careless encoder might leave behind.
      const spellings = [
        Buffer.from(needle, 'utf8'),
        Buffer.from(needle, 'utf16le'),
        Buffer.from(Buffer.from(needle, 'utf8').toString('base64'), 'utf8'),
        Buffer.from(Buffer.from(needle, 'utf8').toString('hex'), 'utf8'),
      ];
      for (const spelling of spellings) expect(bytes.includes(spelling)).toBe(false);
    }
    expect(fs.statSync(vaultPath(home)).mode & 0o777).toBe(0o600);
    const envelope = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    expect(envelope).toMatchObject({ v: 1, kdf: 'scrypt', N: 2 ** 15, r: 8, p: 1 });
  });

  it('uses a fresh IV for every write', async () => {
    const store = await openStore('file', { home, env });
    const ivs = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await store.set('credential:openai', 'same');
      ivs.add((JSON.parse(fs.readFileSync(vaultPath(home), 'utf8')) as { iv: string }).iv);
    }
    expect(ivs.size).toBe(3);
  });

  it('reports a corrupt file as corrupt, not as a wrong passphrase', async () => {
    const file = vaultPath(home);
    fs.writeFileSync(file, 'this is not a vault', { mode: 0o600 });
    expect((await rejection(openStore('file', { home, env }))).code).toBe('corrupt');

    const store = await FileStore.open({ home: path.join(home, 'ok'), env });
    await store.set('credential:openai', newSecret());
    const envelope = JSON.parse(fs.readFileSync(store.file, 'utf8')) as Record<string, unknown>;
    for (const broken of [
      { ...envelope, v: 2 },
      { ...envelope, iv: 'AAAA' },
      { ...envelope, N: 2 ** 40 },
      { ...envelope, tag: '!!' },
    ]) {
      fs.writeFileSync(file, JSON.stringify(broken));
      expect((await rejection(openStore('file', { home, env }))).code).toBe('corrupt');
    }
  });

  it('treats altered ciphertext as failing authentication', async () => {
    const store: SecretStore = await openStore('file', { home, env });
    await store.set('credential:openai', newSecret());
    const envelope = JSON.parse(fs.readFileSync(vaultPath(home), 'utf8')) as { data: string };
    const data = Buffer.from(envelope.data, 'base64');
    data[0] = (data[0] ?? 0) ^ 1;
    fs.writeFileSync(vaultPath(home), JSON.stringify({ ...envelope, data: data.toString('base64') }));
    expect((await rejection(store.get('credential:openai'))).code).toBe('wrong-passphrase');
  });
});
