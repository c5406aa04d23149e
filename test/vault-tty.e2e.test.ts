// Creating the file vault at a real terminal (a pty from util-linux `script`): the laptop says
// why the keychain is not used, asks for the passphrase twice, and a mismatch stores nothing.
import { afterAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialAccount } from '../agent/secret-stores.js';
import { FileStore, isVaultError } from '../agent/vault/index.js';
import { removeDir, tempDir } from './support/homes.js';
import { LAPTOP_BIN, runTether } from './support/tether-process.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const dir = tempDir('vtty');
const home = join(dir, 'laptop');
const SECRET = 'sk-tty-SECRET-0123456789abcdef';
// No session bus: the keychain probe fails at once, as on a headless box without a Secret Service.
const env = { ...process.env, HOME: dir, TETHER_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus')}`, TETHER_VAULT_PASSPHRASE: undefined };

afterAll(() => removeDir(dir));

/** `tether creds add openai` in a pty; each answer is typed once its prompt is on the screen. */
async function addAtTerminal(answers: [RegExp, string][]): Promise<{ code: number | null; screen: string }> {
  const terminal = spawn('script', ['-qfec', `${process.execPath} ${LAPTOP_BIN} creds add openai`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  terminal.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const exited = new Promise<number | null>((resolve) => terminal.on('exit', resolve));
  let seen = 0;
  for (const [prompt, answer] of answers) {
    for (let i = 0; i < 400 && !prompt.test(screen.slice(seen)); i++) await new Promise((r) => setTimeout(r, 25));
    expect(screen.slice(seen)).toMatch(prompt);
    seen = screen.length;
    terminal.stdin.write(`${answer}\r`);
  }
  const code = await exited;
  return { code, screen };
}

it.skipIf(!hasScript)('asks twice for a new vault passphrase, says why, and stores nothing on a mismatch', async () => {
  const mismatch = await addAtTerminal([
    [/OpenAI API key for "openai": $/, SECRET],
    [/no system keychain \(.+\), so secrets go to the encrypted file .*vault\.enc; choose its passphrase \(TETHER_VAULT_PASSPHRASE gives it without a prompt\)\r?\nnew vault passphrase: $/, 'tiger lily'],
    [/the same passphrase again: $/, 'tiger lilly'],
  ]);
  expect(mismatch.code).toBe(1);
  expect(mismatch.screen).toMatch(/again: \r?\ntether: the two passphrases differ: nothing was stored; run the command again\r?\n$/);
  expect(existsSync(join(home, 'vault.enc'))).toBe(false);
  expect(existsSync(join(home, 'config.json')) ? readFileSync(join(home, 'config.json'), 'utf8') : '').not.toContain('openai');

  const created = await addAtTerminal([
    [/API key for "openai": $/, SECRET],
    [/new vault passphrase: $/, 'tiger lily'],
    [/the same passphrase again: $/, 'tiger lily'],
  ]);
  expect(created.code, created.screen).toBe(0);
  expect(created.screen).toMatch(/added openai \(OpenAI, file store\); no system keychain: .+\r?\n/);
  expect(created.screen).not.toContain(SECRET);
  expect(created.screen).not.toContain('tiger');
  expect(readFileSync(join(home, 'vault.enc')).toString('latin1')).not.toContain(SECRET);

  // The vault opens with the passphrase typed twice, and holds the key.
  const vault = await FileStore.open({ home, env: { TETHER_VAULT_PASSPHRASE: 'tiger lily' } });
  expect(await vault.get(credentialAccount('openai'))).toBe(SECRET);
  const wrong = await FileStore.open({ home, env: { TETHER_VAULT_PASSPHRASE: 'tiger lilly' } }).catch((e: unknown) => e);
  expect(isVaultError(wrong, 'wrong-passphrase')).toBe(true);
  const list = await runTether(['creds', 'list', '--json'], { home, env });
  expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'openai', store: 'file' })]);
});
