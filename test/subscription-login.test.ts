// A subscription login on the laptop against a mock OAuth vendor on loopback: renewal before
// expiry, one refresh for many callers, rotated refresh tokens written back, a revoked login
// said once, a week of renewals on a moved clock, the vendor's client check, and imports
// that would log the laptop's own CLI out refused with the reason.
import { refusal } from '../protocol/refusals.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { PROVIDERS, programOf, providerErrorBody } from '../protocol/index.js';
import { CredentialBook, type ResolvedCredential } from '../agent/credentials.js';
import { StoreShelf } from '../agent/secret-stores.js';
import { withFileLock } from '../agent/file-lock.js';
import { FileStore } from '../agent/vault/file-store.js';
import { importLogin } from '../agent/login-import.js';
import { subscriptionWords } from '../agent/link-session.js';
import { describeApproval } from '../agent/tty-prompt.js';
import { authorizeSubscription } from '../agent/subscription-auth.js';
import { SubscriptionLogin, parseLoginInput, readStoredTokens, storedTokens, type LoginTokens } from '../agent/subscription-login.js';
import { startMockProvider, type MockProvider } from './fixtures/mock-provider.js';
import { tempDir } from './support/homes.js';
import { startOAuthVendor, type OAuthVendor } from './support/mock-oauth-vendor.js';

const claude = PROVIDERS['claude-subscription']!;
const sub = claude.subscription!;
let upstream: MockProvider;
let vendor: OAuthVendor;
const KEY = 'test-upstream-key-0123456789';

beforeAll(async () => {
  upstream = await startMockProvider({ keys: { anthropic: KEY } });
  vendor = await startOAuthVendor({ dialect: 'anthropic', clientId: sub.clientId, accessTtlMs: 2000, upstream, upstreamKey: KEY });
});
afterAll(async () => {
  await vendor?.close();
  await upstream?.close();
});

/** A login whose vault is an array (every write kept), on the vendor's clock. */
function loginOf(tokens: LoginTokens, notices: string[] = [], now = () => vendor.now()) {
  const saved: string[] = [];
  const login = new SubscriptionLogin('claude-subscription', sub, tokens, vendor.tokenUrl, {
    save: async (t) => void saved.push(storedTokens(t)),
    notice: (line) => notices.push(line),
    now,
  });
  return { login, saved, notices };
}

async function callApi(token: string, at: OAuthVendor = vendor): Promise<number> {
  const res = await fetch(`${at.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'anthropic-beta': 'oauth-2025-04-20', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-1', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('SubscriptionLogin', () => {
  it('renews before expiry: many concurrent callers share one refresh, the rotated refresh token is stored before use', async () => {
    const grant = await vendor.login();
    const { login, saved } = loginOf({ ...grant, lifetimeMs: 2000 });
    expect(await login.accessToken()).toBe(grant.accessToken);
    const before = vendor.refreshCalls;
    vendor.advance(1700); // inside the last fifth of the lifetime: renewed, though still valid
    const tokens = await Promise.all(Array.from({ length: 20 }, () => login.accessToken()));
    expect(vendor.refreshCalls - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(grant.accessToken);
    expect(saved).toHaveLength(1);
    const stored = readStoredTokens(saved[0]!);
    expect(stored.accessToken).toBe(tokens[0]);
    expect(stored.refreshToken).not.toBe(grant.refreshToken);
    expect(await callApi(tokens[0]!)).toBe(200);
    // The spent refresh token no longer works at the vendor: had it not been stored, the login would be lost.
    expect(login.refreshes).toBe(1);
  });

  it('a revoked login: one line on the laptop, an error naming the way back, no further calls to the vendor', async () => {
    const grant = await vendor.login();
    const { login, notices } = loginOf({ ...grant, lifetimeMs: 2000 });
    vendor.revoke(grant.refreshToken);
    vendor.advance(2500);
    const before = vendor.refreshCalls;
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => login.accessToken()));
    await expect(login.accessToken()).rejects.toMatchObject({ code: 'login-revoked' });
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(vendor.refreshCalls - before).toBe(1);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^tether: the Claude Pro\/Max login of "claude-subscription" no longer works \(127\.0\.0\.1:\d+ refused its refresh token: invalid_grant\): add it again with `claude setup-token`/);
    expect(notices[0]).not.toContain(grant.refreshToken);
  });

  it('an access token without a refresh token, once expired: one line on the laptop, then the same error', async () => {
    const { login, notices } = loginOf({ accessToken: 'test-access-short-lived-only', expiresAt: vendor.now() + 1000 });
    expect(await login.accessToken()).toBe('test-access-short-lived-only');
    vendor.advance(1500);
    await expect(login.accessToken()).rejects.toThrow(/its token expired and it has no refresh token/);
    await expect(login.accessToken()).rejects.toMatchObject({ code: 'login-revoked' });
    expect(notices).toHaveLength(1);
  });

  it('a setup token (no refresh token) is sent as it is and never renewed', async () => {
    const { login } = loginOf(parseLoginInput('test-long-lived-setup-token\n'));
    const before = vendor.refreshCalls;
    vendor.advance(30 * 86_400_000);
    expect(await login.accessToken()).toBe('test-long-lived-setup-token');
    expect(vendor.refreshCalls).toBe(before);
  });

  it("a week of renewals on a moved clock: Tether's login keeps working, and the laptop CLI's own login (a separate login) still refreshes", async () => {
    const laptopCli = await vendor.login(); // what the laptop's Claude Code holds
    const own = await vendor.login(); // Tether's own login (setup token or a login of its own)
    const { login } = loginOf({ ...own, lifetimeMs: 2000 });
    const weekMs = 7 * 86_400_000;
    const stepMs = 3_600_000;
    const before = vendor.refreshCalls;
    for (let t = 0; t < weekMs; t += stepMs) {
      vendor.advance(stepMs);
      expect(await callApi(await login.accessToken())).toBe(200);
    }
    expect(vendor.refreshCalls - before).toBe(weekMs / stepMs);
    const cli = await fetch(vendor.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: laptopCli.refreshToken, client_id: sub.clientId }) });
    expect(cli.status).toBe(200);
    const renewed = (await cli.json()) as { access_token: string };
    expect(await callApi(renewed.access_token)).toBe(200);
  });

  it('the vendor rotates: two holders of one refresh token log each other out (why import refuses to share)', async () => {
    const shared = await vendor.login();
    const a = loginOf({ ...shared, lifetimeMs: 2000 });
    const b = loginOf({ ...shared, lifetimeMs: 2000 });
    vendor.advance(2500);
    await a.login.accessToken();
    await expect(b.login.accessToken()).rejects.toMatchObject({ code: 'login-revoked' });
    vendor.advance(2500);
    await expect(a.login.accessToken()).rejects.toMatchObject({ code: 'login-revoked' });
  });
});

describe('importing the laptop CLI’s own login', () => {
  it("Gemini CLI's Google login is shared (Google keeps refresh tokens): after a week of Tether's renewals, Gemini CLI's own refresh token still works and its file is untouched", async () => {
    const gemini = PROVIDERS['gemini-subscription']!.subscription!;
    const google = await startOAuthVendor({ dialect: 'google', clientId: gemini.clientId, clientSecret: gemini.refreshExtras!.client_secret!, accessTtlMs: 2000, upstream, upstreamKey: KEY });
    try {
      const grant = await google.login();
      const home = tempDir('gemini-import');
      mkdirSync(join(home, '.gemini'));
      const file = join(home, '.gemini/oauth_creds.json');
      const text = JSON.stringify({ access_token: grant.accessToken, refresh_token: grant.refreshToken, scope: 'openid', token_type: 'Bearer', expiry_date: grant.expiresAt });
      writeFileSync(file, text, { mode: 0o600 });
      const tokens = importLogin('gemini-subscription', gemini.setupHint, { GEMINI_CLI_HOME: home });
      expect(tokens).toMatchObject({ accessToken: grant.accessToken, refreshToken: grant.refreshToken, expiresAt: grant.expiresAt });
      const login = new SubscriptionLogin('gemini-subscription', gemini, tokens, google.tokenUrl, { save: async () => {}, now: () => google.now() });
      for (let t = 0; t < 7 * 24; t++) {
        google.advance(3_600_000);
        await login.accessToken();
      }
      expect(login.refreshes).toBe(7 * 24);
      // Gemini CLI renews with what its file holds: a form post with its client secret, as google-auth-library does.
      const cli = await fetch(google.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken, client_id: gemini.clientId, client_secret: gemini.refreshExtras!.client_secret! }).toString() });
      expect(cli.status).toBe(200);
      expect(readFileSync(file, 'utf8')).toBe(text);
    } finally {
      await google.close();
    }
  });

  it("refuses a Claude Code login with a refresh token, saying why, and leaves its file as it was", () => {
    const home = tempDir('claude-import');
    mkdirSync(join(home, '.claude'));
    const file = join(home, '.claude/.credentials.json');
    const text = JSON.stringify({ claudeAiOauth: { accessToken: 'test-access-aaaaaaaa', refreshToken: 'test-refresh-bbbbbbbb', expiresAt: Date.now() + 3_600_000, scopes: ['user:inference'] } });
    writeFileSync(file, text, { mode: 0o600 });
    expect(() => importLogin('claude-subscription', sub.setupHint, { HOME: home })).toThrow(/not imported: Claude Code rotates its refresh token .* would log each other out; give tether a login of its own instead: `claude setup-token`/);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('refuses a Codex CLI login the same way; no login at all says where it looked', () => {
    const home = tempDir('codex-import');
    mkdirSync(join(home, '.codex'));
    writeFileSync(join(home, '.codex/auth.json'), JSON.stringify({ OPENAI_API_KEY: null, tokens: { id_token: 'x', access_token: 'at_aaaaaaaa', refresh_token: 'rt_bbbbbbbb', account_id: 'acct' } }));
    expect(() => importLogin('chatgpt-subscription', 'x', { HOME: home })).toThrow(/Codex CLI rotates its refresh token/);
    expect(() => importLogin('claude-subscription', 'x', { HOME: home })).toThrow(/no Claude Code login at .*\.credentials\.json \(ENOENT\)/);
  });
});

describe("lent to the vendor's own client only", () => {
  const cred = (anyClient = false): ResolvedCredential => ({
    entry: { name: 'claude-subscription', provider: 'claude-subscription', store: 'file', addedAt: '', subscription: anyClient ? { anyClient } : {} },
    spec: claude,
    baseUrl: vendor.url,
    secret: '',
    keyHeader: 'authorization',
    keyPrefix: 'Bearer ',
    login: loginOf(parseLoginInput('test-setup-token-value')).login,
  });

  it('programOf: argv[0] or the script a runtime runs', () => {
    expect(programOf(['/usr/local/bin/claude', '-p', 'hi'])).toBe('claude');
    expect(programOf(['node', '--no-warnings', '/opt/gemini-cli/bundle/gemini.js'])).toBe('gemini');
    expect(programOf(['python3', 'steal.py'])).toBe('python3');
    expect(programOf([])).toBeUndefined();
  });

  it('Claude Code gets the token in the vendor form; anything else a 403 in the vendor shape saying why', async () => {
    const ok = await authorizeSubscription(cred(), { pid: 42, cmdline: ['/home/u/.local/bin/claude', '-p'] });
    expect(ok.ok).toBe(true);
    const headers: Record<string, string | string[]> = { 'anthropic-beta': ['prompt-caching-2024-07-31', 'fine-grained-tool-streaming-2025-05-14'] };
    if (ok.ok) ok.apply(headers);
    expect(headers.authorization).toBe('Bearer test-setup-token-value');
    expect(headers['anthropic-beta']).toBe('prompt-caching-2024-07-31,fine-grained-tool-streaming-2025-05-14,oauth-2025-04-20');

    const refused = await authorizeSubscription(cred(), { pid: 43, cmdline: ['python3', 'steal.py'] });
    expect(refused).toMatchObject({ ok: false, code: 'caller-refused' });
    if (!refused.ok) {
      expect(refused.message).toMatch(/is a Claude Pro\/Max subscription, lent only to Claude Code; this request came from "python3" \(pid 43\).*--any-client/);
      const { status, kind } = refusal(refused.code);
      expect(status).toBe(403);
      expect(providerErrorBody('anthropic', status, kind, refused.message, refused.code)).toMatchObject({ type: 'error', error: { type: 'permission_error', tether_code: 'caller-refused' } });
    }
    expect(await authorizeSubscription(cred(), undefined)).toMatchObject({ ok: false, code: 'caller-refused', message: expect.stringMatching(/a process tether could not identify/) });
    expect(await authorizeSubscription(cred(true), { pid: 43, cmdline: ['python3', 'steal.py'] })).toMatchObject({ ok: true });
  });
});

describe('adding a login', () => {
  it('refuses a token endpoint over plain http to another machine, env and memory stores, and a login on an API-key provider', async () => {
    const book = new CredentialBook(join(tempDir('book'), 'config.json'), new StoreShelf(async (kind) => ({ kind, writable: true, get: async () => undefined, set: async () => {}, delete: async () => true, accounts: async () => [] }) as never));
    const tokens = parseLoginInput('test-setup-token-value');
    await expect(book.add({ provider: 'claude-subscription', store: 'file', subscription: { tokens, tokenUrl: 'http://auth.example.com/token' } })).rejects.toThrow(/https only/);
    await expect(book.add({ provider: 'claude-subscription', store: 'env', subscription: { tokens } })).rejects.toThrow(/write renewed tokens back/);
    await expect(book.add({ provider: 'anthropic', store: 'file', subscription: { tokens } })).rejects.toThrow(/not a subscription login/);
    await expect(book.add({ provider: 'claude-subscription', store: 'file', secret: 'sk-x' })).rejects.toThrow(/is a login/);
    expect(await book.add({ provider: 'claude-subscription', store: 'file', subscription: { tokens, tokenUrl: 'http://127.0.0.1:9/token', anyClient: true } })).toMatchObject({ subscription: { tokenUrl: 'http://127.0.0.1:9/token', anyClient: true } });
  });
});

describe('the approval prompt', () => {
  it('says "subscription" and names the CLI it is lent to', () => {
    const words = subscriptionWords({ name: 'claude-subscription', provider: 'claude-subscription', store: 'file', addedAt: '', subscription: {} });
    expect(words).toBe('Claude Pro/Max subscription, lent only to Claude Code');
    expect(subscriptionWords({ name: 'c', provider: 'chatgpt-subscription', store: 'file', addedAt: '', subscription: { anyClient: true } })).toBe('ChatGPT Plus/Pro/Team subscription, lent to any program (widened with --any-client)');
    expect(subscriptionWords({ name: 'openai', provider: 'openai', store: 'file', addedAt: '' })).toBeUndefined();
    const text = describeApproval({ id: 'ap_1', server: 'box', provider: 'claude-subscription', process: { pid: 7, uid: 0, cmdline: ['tether', 'exec', '--', 'claude'], parents: [] }, createdAt: 0, expiresAt: Date.now() + 5000, asks: 1, subscription: words! });
    expect(text).toContain('  login    Claude Pro/Max subscription, lent only to Claude Code');
  });
});

describe('two processes on one laptop holding one login (the tray app and a `tether agent`)', () => {
  it('renew it one at a time from the shared vault: a rotating vendor never sees a refresh token twice, and nobody is logged out', async () => {
    const home = tempDir('shared-vault');
    const env = { TETHER_VAULT_PASSPHRASE: 'tiger lily' };
    // A vendor of its own: the other tests move the shared one's clock, and both books run on this one's.
    const own = await startOAuthVendor({ dialect: 'anthropic', clientId: sub.clientId, accessTtlMs: 2000, upstream, upstreamKey: KEY });
    onTestFinished(() => own.close());
    // Two books on the same config and the same encrypted file, each with its own FileStore: as two processes have.
    const bookOf = () => new CredentialBook(join(home, 'config.json'), new StoreShelf(() => FileStore.open({ home, env })), { now: () => own.now() });
    const grant = await own.login();
    await bookOf().add({ provider: 'claude-subscription', store: 'file', subscription: { tokens: { ...grant, lifetimeMs: 2000 }, tokenUrl: own.tokenUrl } });
    const [a, b] = [bookOf(), bookOf()];
    const [ca, cb] = await Promise.all([a.resolve('claude-subscription'), b.resolve('claude-subscription')]);
    expect(ca.login).not.toBe(cb.login);
    const before = own.refreshCalls;
    for (let round = 0; round < 3; round++) {
      own.advance(1100); // both hold a token that is due (2 s tokens, renewed 1 s before)
      const [ta, tb] = await Promise.all([ca.login!.accessToken(), cb.login!.accessToken()]);
      expect(ta).toBe(tb); // one renewed, the other took its renewal from the vault
      expect(await callApi(ta, own)).toBe(200);
    }
    expect(own.refreshCalls - before).toBe(3);
    expect(readdirSync(home).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('withFileLock', () => {
  it('keeps a second process out while held, and breaks a lock whose process is gone', async () => {
    const dir = tempDir('lock');
    const lock = join(dir, 'renew-x.lock');
    // A real second process takes the lock and holds it for 400 ms.
    const holder = spawn(process.execPath, ['-e', `const fs=require('fs');fs.writeFileSync(${JSON.stringify(lock)},String(process.pid),{flag:'wx'});setTimeout(()=>fs.rmSync(${JSON.stringify(lock)}),400)`]);
    const holderExit = once(holder, 'exit');
    await vi.waitFor(() => expect(existsSync(lock)).toBe(true), { timeout: 10_000 });
    const t0 = performance.now();
    await withFileLock(lock, async () => expect(readFileSync(lock, 'utf8')).toBe(String(process.pid)));
    expect(performance.now() - t0).toBeGreaterThan(200);
    await holderExit;

    // A lock left by a process that died (SIGKILL while renewing) is broken at once.
    const dead = spawn(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(lock)},String(process.pid),{flag:'wx'});setInterval(()=>{},1000)`]);
    await vi.waitFor(() => expect(existsSync(lock)).toBe(true), { timeout: 10_000 });
    const deadExit = once(dead, 'exit');
    dead.kill('SIGKILL');
    await deadExit;
    const t1 = performance.now();
    expect(await withFileLock(lock, async () => 'ran')).toBe('ran');
    expect(performance.now() - t1).toBeLessThan(2000);
    expect(existsSync(lock)).toBe(false);

    // A holder that never lets go: the waiter gives up with a line saying which file.
    writeFileSync(lock, String(process.pid));
    await expect(withFileLock(lock, async () => 'no', { waitMs: 200 })).rejects.toThrow(/renew-x\.lock is held by another tether process/);
  });
});
