// `tether creds add … --subscription --login`: the vendor CLI's own sign-in, run into a folder
// of tether's that is deleted after; what goes wrong is said in one line and adds nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/homes.js';
import { scanForSecrets } from './support/secret-scan.js';
import { standInSignIn } from './support/stand-in-sign-in.js';
import { runTether } from './support/tether-process.js';

const CLAUDE_LOGIN = JSON.stringify({ claudeAiOauth: { accessToken: 'test-stand-in-access-0123', refreshToken: 'test-stand-in-refresh-0123', expiresAt: Date.now() + 3_600_000, scopes: ['user:inference'] } });

function laptop(bin?: string) {
  const home = tempDir('vendor-login');
  const fakeHome = tempDir('user-home');
  const run = (args: string[]) =>
    runTether(['creds', 'add', ...args], { home, env: { TETHER_VAULT_PASSPHRASE: 'tiger lily', HOME: fakeHome, PATH: bin ? `${bin}:/usr/bin:/bin` : '/nonexistent' } });
  const list = async () => (await runTether(['creds', 'list', '--json'], { home })).stdout;
  return { home, fakeHome, run, list };
}

describe('--login', () => {
  it('runs `claude auth login` with a private CLAUDE_CONFIG_DIR and keeps what it saved as a login of tether\'s own', async () => {
    const signIn = standInSignIn(tempDir('bin'), 'claude', 'CLAUDE_CONFIG_DIR', '.credentials.json', CLAUDE_LOGIN);
    const l = laptop(signIn.bin);
    const r = await l.run(['anthropic', '--subscription', '--login', '--store', 'file']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/added claude-subscription .*renewed on this laptop before it expires; lent only to Claude Code/);
    const seen = JSON.parse(readFileSync(signIn.record, 'utf8')) as { args: string[]; home: string; mode: string; entries: string[] };
    expect(seen).toMatchObject({ args: ['auth', 'login'], mode: '700', entries: [] });
    expect(seen.home.startsWith(join(l.home, 'login-'))).toBe(true);
    expect(existsSync(seen.home)).toBe(false);
    expect(readdirSync(l.fakeHome)).toEqual([]); // the laptop's own ~/.claude is not touched
    expect(await l.list()).toContain('"claude-subscription"');
    // The login sits in the encrypted vault: no file in tether's home holds it in plain text.
    expect(scanForSecrets([l.home], ['test-stand-in-refresh-0123', 'test-stand-in-access-0123'])).toEqual([]);
  });

  it('a sign-in that did not finish, a CLI that is not installed, a login tether cannot read, and Gemini: one line each, nothing added, no folder left', async () => {
    const gaveUp = standInSignIn(tempDir('bin'), 'codex', 'CODEX_HOME', 'auth.json', '{}', 1);
    let l = laptop(gaveUp.bin);
    let r = await l.run(['openai', '--subscription', '--login', '--store', 'file']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^tether: `codex login -c cli_auth_credentials_store="file"` ended with 1: the sign-in did not finish, nothing was added$/);
    expect(readdirSync(l.home).filter((f) => f.startsWith('login-'))).toEqual([]);
    expect(await l.list()).not.toContain('chatgpt-subscription');

    l = laptop();
    r = await l.run(['anthropic', '--subscription', '--login', '--store', 'file']);
    expect(r.stderr.trim()).toMatch(/^tether: claude is not on PATH: install Claude Code, or use `claude setup-token`/);

    const apiKey = standInSignIn(tempDir('bin'), 'codex', 'CODEX_HOME', 'auth.json', JSON.stringify({ OPENAI_API_KEY: 'test-api-key-not-a-login' }));
    l = laptop(apiKey.bin);
    r = await l.run(['openai', '--subscription', '--login', '--store', 'file']);
    expect(r.stderr.trim()).toMatch(/saved a login tether cannot read \(an API key rather than a Codex CLI sign-in\?\)/);
    expect(r.stderr).not.toContain('test-api-key-not-a-login');
    expect(readdirSync(l.home).filter((f) => f.startsWith('login-'))).toEqual([]);

    r = await l.run(['gemini', '--subscription', '--login', '--store', 'file']);
    expect(r.stderr.trim()).toMatch(/--login is for Claude Code and Codex CLI logins; for gemini-subscription use `tether creds add gemini --subscription --import`/);
    r = await l.run(['anthropic', '--subscription', '--login', '--import']);
    expect(r.stderr).toMatch(/give one of them/);
  });
});
