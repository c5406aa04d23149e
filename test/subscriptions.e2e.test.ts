// Subscription logins end to end: a mock OAuth vendor (access tokens living 3 s, rotating refresh
// tokens) in front of the mock provider; the laptop holds the login and renews it; the real
// Claude Code runs on the server through `tether exec` on that login; other programs holding
// the same lease are refused; a revoked login ends in one line on the laptop and a 401 in
// Anthropic's shape on the server; nothing of the login reaches the server's disk, logs,
// argv or environment.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '../protocol/index.js';
import { STREAMED_SENTENCE } from './fixtures/completion-route.js';
import { startMockProvider, type MockProvider } from './fixtures/mock-provider.js';
import { startOAuthVendor, type Grant, type OAuthVendor } from './support/mock-oauth-vendor.js';
import { tempDir } from './support/homes.js';
import { processesHolding } from './support/proc-scan.js';
import { scanForSecrets } from './support/secret-scan.js';
import { standInSignIn } from './support/stand-in-sign-in.js';
import { SERVER_BIN, runTether, waitFor } from './support/tether-process.js';
import { World } from './support/world.js';
import { ensureClaudeCode, ensureCodex, ensureGeminiCli, type Tool } from './tools-pkg/ensure.js';

const run = promisify(execFile);
const ACCESS_TTL_MS = 3000;
const UPSTREAM_KEY = 'test-upstream-only-the-vendor-knows-0001';

let world: World;
let upstream: MockProvider;
let vendor: OAuthVendor;
/** The ChatGPT side: its own vendor (token endpoint, account header) in front of the same mock. */
let chatgpt: OAuthVendor;
const ACCOUNT_ID = 'acct-mock-0001';
let codex: Tool;
let claude: Tool;
/** The Google side: Code Assist behind a token endpoint that keeps refresh tokens; Gemini CLI's login imported. */
let google: OAuthVendor;
let gemini: Tool;
let geminiGrant: Grant;
/** The laptop's own Gemini CLI login (its folder), imported, never changed. */
let laptopGeminiHome: string;
let laptopGeminiCreds: string;
let claudeGrant: Grant;
let anyGrant: Grant;
let home: string;
let work: string;
/** A client that is not Claude Code: calls the proxy with whatever lease its environment holds. */
let probe: string;

beforeAll(async () => {
  claude = await ensureClaudeCode();
  codex = await ensureCodex();
  gemini = await ensureGeminiCli();
  upstream = await startMockProvider({ keys: { anthropic: UPSTREAM_KEY, openai: UPSTREAM_KEY, gemini: UPSTREAM_KEY }, tokenDelayMs: 0 });
  const googleSpec = PROVIDERS['gemini-subscription']!.subscription!;
  google = await startOAuthVendor({ dialect: 'google', clientId: googleSpec.clientId, clientSecret: googleSpec.refreshExtras!.client_secret!, accessTtlMs: ACCESS_TTL_MS, upstream, upstreamKey: UPSTREAM_KEY });
  chatgpt = await startOAuthVendor({ dialect: 'chatgpt', clientId: PROVIDERS['chatgpt-subscription']!.subscription!.clientId, accessTtlMs: ACCESS_TTL_MS, upstream, upstreamKey: UPSTREAM_KEY, accountId: ACCOUNT_ID });
  vendor = await startOAuthVendor({ dialect: 'anthropic', clientId: PROVIDERS['claude-subscription']!.subscription!.clientId, accessTtlMs: ACCESS_TTL_MS, upstream, upstreamKey: UPSTREAM_KEY });
  world = await World.start({ approve: 'allow' });
  claudeGrant = await vendor.login();
  anyGrant = await vendor.login();
  const login = (g: Grant) => JSON.stringify({ claudeAiOauth: { accessToken: g.accessToken, refreshToken: g.refreshToken, expiresAt: g.expiresAt } });
  const add = (name: string, g: Grant, extra: string[] = []) =>
    world.laptop(['creds', 'add', 'anthropic', '--subscription', '--name', name, '--store', 'file', '--base-url', vendor.url, '--token-url', vendor.tokenUrl, ...extra], { input: login(g) });
  const added = await add('claude-subscription', claudeGrant);
  expect(added.code, added.stderr).toBe(0);
  expect(added.stderr).toContain('lent only to Claude Code');
  const widened = await add('claude-any', anyGrant, ['--any-client']);
  expect(widened.code, widened.stderr).toBe(0);
  // `--login` runs Codex CLI's sign-in into a folder of tether's. The browser step cannot run
  // offline, so `codex` here is a stand-in that saves what `codex login` saves in its
  // CODEX_HOME: auth.json with the ChatGPT tokens and account, from a real login at the vendor.
  const codexLogin = await chatgpt.login();
  const authJson = JSON.stringify({ OPENAI_API_KEY: null, tokens: { id_token: 'unused', access_token: codexLogin.accessToken, refresh_token: codexLogin.refreshToken, account_id: ACCOUNT_ID }, last_refresh: new Date().toISOString() });
  const signIn = standInSignIn(world.root, 'codex', 'CODEX_HOME', 'auth.json', authJson);
  const addedChatgpt = await world.laptop(['creds', 'add', 'openai', '--subscription', '--login', '--store', 'file', '--base-url', chatgpt.url, '--token-url', chatgpt.tokenUrl], { env: { PATH: `${signIn.bin}:${process.env.PATH}` } });
  expect(addedChatgpt.code, addedChatgpt.stderr).toBe(0);
  expect(addedChatgpt.stderr).toContain('lent only to Codex CLI');
  // It ran as `codex login` with a fresh, private CODEX_HOME inside tether's home, since deleted.
  const seen = JSON.parse(readFileSync(signIn.record, 'utf8')) as { args: string[]; home: string; mode: string; entries: string[] };
  expect(seen.args).toEqual(['login', '-c', 'cli_auth_credentials_store="file"']);
  expect(seen).toMatchObject({ mode: '700', entries: [] });
  expect(seen.home.startsWith(world.laptopHome + '/login-')).toBe(true);
  expect(existsSync(seen.home)).toBe(false);
  // The laptop's Gemini CLI is logged in with Google; Tether imports that login (Google keeps refresh tokens).
  geminiGrant = await google.login();
  laptopGeminiHome = tempDir('laptop-gemini');
  mkdirSync(join(laptopGeminiHome, '.gemini'));
  laptopGeminiCreds = JSON.stringify({ access_token: geminiGrant.accessToken, refresh_token: geminiGrant.refreshToken, scope: 'openid https://www.googleapis.com/auth/cloud-platform', token_type: 'Bearer', expiry_date: geminiGrant.expiresAt });
  writeFileSync(join(laptopGeminiHome, '.gemini/oauth_creds.json'), laptopGeminiCreds, { mode: 0o600 });
  const imported = await world.laptop(['creds', 'add', 'gemini', '--subscription', '--import', '--store', 'file', '--base-url', google.url, '--token-url', google.tokenUrl], { env: { GEMINI_CLI_HOME: laptopGeminiHome } });
  expect(imported.code, imported.stderr).toBe(0);
  expect(imported.stderr).toContain('lent only to Gemini CLI');
  await waitFor(async () => {
    const offered = JSON.stringify((await world.daemonStatus())?.laptops ?? []);
    return ['claude-subscription', 'claude-any', 'chatgpt-subscription', 'gemini-subscription'].every((n) => offered.includes(`"${n}"`)) ? true : undefined;
  }, 'the subscription logins offered');
  home = join(world.root, 'claude-home');
  work = join(world.root, 'claude-work');
  mkdirSync(work, { recursive: true });
  probe = join(world.root, 'probe.mjs');
  writeFileSync(
    probe,
    `const [base, token, model, rounds] = [process.env.ANTHROPIC_BASE_URL, process.env.CLAUDE_CODE_OAUTH_TOKEN, process.argv[2] ?? 'mock-1', Number(process.argv[3] ?? 1)];
for (let i = 0; i < rounds; i++) {
  const res = await fetch(base + '/v1/messages', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify({ model, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hi' }] }) });
  const text = await res.text();
  console.log(JSON.stringify({ status: res.status, ended: text.includes('message_stop'), body: res.status === 200 ? '' : text }));
}
`,
  );
}, 300_000);

afterAll(async () => {
  await world?.stop();
  // Every access and refresh token the vendor issued, every lease: none on the server's disk or in a log.
  const issued = [...(vendor?.issued ?? []), ...(chatgpt?.issued ?? []), ...(google?.issued ?? [])];
  for (const t of issued) world?.tokens.add(t);
  expect(world?.leaks()).toEqual([]);
  expect(processesHolding(issued).hits).toEqual([]);
  await world?.dispose();
  await vendor?.close();
  await chatgpt?.close();
  await google?.close();
  await upstream?.close();
});

function claudeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', TETHER_HOME: world.serverHome };
  for (const name of ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'CLAUDE_CODE_OAUTH_TOKEN', 'CLAUDE_CONFIG_DIR']) delete env[name];
  return env;
}

/** `tether exec --provider NAME -- sh -c SCRIPT` on the server. */
function serverExec(name: string, script: string, env: NodeJS.ProcessEnv = claudeEnv()) {
  return runTether(['exec', '--provider', name, '--', 'sh', '-c', script], { home: world.serverHome, bin: SERVER_BIN, env, timeoutMs: 90_000 });
}

describe('a Claude subscription lent to Claude Code', () => {
  it('the real Claude Code through `tether exec`: the vendor sees the laptop’s access token and its oauth beta, never a lease; a node process with the same lease is refused 403', async (ctx) => {
    if ('missing' in claude) return ctx.skip(`Claude Code not available: ${claude.missing}`);
    const from = vendor.apiCalls.length;
    const script = `printf "lease=%s\\n" "$CLAUDE_CODE_OAUTH_TOKEN" >&2; "${process.execPath}" "${probe}"; cd "${work}" && exec "${claude.bin}" -p "say hello" </dev/null`;
    const r = await serverExec('claude-subscription', script);
    const lease = /lease=(\S*)/.exec(r.stderr)?.[1] ?? '';
    if (lease) world.tokens.add(lease);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lease).toMatch(/^tth_/);
    // The probe (node, not Claude Code) ran first with the very same lease: refused, in Anthropic's shape, saying why.
    const refused = JSON.parse(r.stdout.split('\n')[0]!) as { status: number; body: string };
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ type: 'error', error: { type: 'permission_error', message: expect.stringMatching(/tether: "claude-subscription" is a Claude Pro\/Max subscription, lent only to Claude Code; this request came from "probe" \(pid \d+\)/) } });
    expect(r.stdout).toContain(STREAMED_SENTENCE);

    const seen = vendor.apiCalls.slice(from);
    expect(seen.length).toBeGreaterThan(0);
    for (const call of seen) {
      expect(call.status).toBe(200);
      expect(call.headers.authorization).toMatch(/^Bearer sk-ant-oat01-/);
      expect(vendor.issued.has(call.headers.authorization!.slice('Bearer '.length))).toBe(true);
      expect(String(call.headers['anthropic-beta'])).toContain('oauth-2025-04-20');
      expect(String(call.headers['user-agent'])).toMatch(/^claude-cli\//);
      expect(JSON.stringify(call.headers)).not.toContain('tth_');
    }
    // What Claude Code keeps in its home holds neither the lease nor any token of the login.
    expect(scanForSecrets([home, work], [lease, ...vendor.issued])).toEqual([]);
  }, 120_000);

  it('plain `tether exec` leases the API keys only: a subscription login is leased when named', async () => {
    const r = await runTether(['exec', '--', 'sh', '-c', 'printf "%s|%s" "${CLAUDE_CODE_OAUTH_TOKEN:-none}" "$ANTHROPIC_BASE_URL"'], { home: world.serverHome, bin: SERVER_BIN, env: claudeEnv() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`none|${world.state.proxyUrl}/anthropic`);
  });

  it('a lease from `tether token` in a plain program: 403, and the vendor never sees the request', async () => {
    const from = vendor.apiCalls.length;
    const token = await world.server(['token', 'claude-subscription']);
    expect(token.code, token.stderr).toBe(0);
    const lease = token.stdout.trim();
    world.tokens.add(lease);
    const r = await run(process.execPath, [probe], { env: { ...process.env, ANTHROPIC_BASE_URL: `${world.state.proxyUrl}/claude-subscription`, CLAUDE_CODE_OAUTH_TOKEN: lease } });
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ status: 403 });
    expect(vendor.apiCalls.length).toBe(from);
  });
});

describe('renewal on the laptop', () => {
  it('a long streamed session across several access-token lifetimes: every stream completes, the laptop renewed several times', async () => {
    const from = vendor.refreshCalls;
    const started = Date.now();
    // Four streams of 3 s each, one after another, on tokens that live 3 s: 12 s of session.
    const r = await serverExec('claude-any', `exec "${process.execPath}" "${probe}" mock-paced-30-10 4`, { ...process.env, TETHER_HOME: world.serverHome });
    expect(r.code, r.stderr).toBe(0);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number; ended: boolean });
    expect(results).toEqual(Array.from({ length: 4 }, () => ({ status: 200, ended: true, body: '' })));
    expect(Date.now() - started).toBeGreaterThan(3 * ACCESS_TTL_MS);
    expect(vendor.refreshCalls - from).toBeGreaterThanOrEqual(3);
    expect(vendor.apiCalls.filter((c) => c.status === 401)).toEqual([]);
  }, 60_000);

  it('a revoked login: one clear line on the laptop, a 401 in Anthropic’s shape on the server', async () => {
    vendor.revoke(anyGrant.refreshToken);
    await new Promise((resolve) => setTimeout(resolve, ACCESS_TTL_MS + 200)); // the last access token has expired too
    const r = await serverExec('claude-any', `exec "${process.execPath}" "${probe}" mock-1 3`, { ...process.env, TETHER_HOME: world.serverHome });
    expect(r.code, r.stderr).toBe(0);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number; body: string });
    expect(results.map((x) => x.status)).toEqual([401, 401, 401]);
    expect(JSON.parse(results[0]!.body)).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: expect.stringMatching(/^tether: the Claude Pro\/Max login of "claude-any" no longer works \(127\.0\.0\.1:\d+ refused its refresh token: invalid_grant\): add it again with `claude setup-token`/) } });
    const lines = readFileSync(world.agent!.logFile, 'utf8').split('\n').filter((l) => l.includes('no longer works'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tether: the Claude Pro\/Max login of "claude-any" no longer works/);
  }, 60_000);
});

describe('a ChatGPT subscription lent to Codex CLI', () => {
  it('the real Codex CLI through `tether exec`: the vendor sees the laptop’s access token and the account header, never a lease; the renewal happens on the laptop', async (ctx) => {
    if ('missing' in codex) return ctx.skip(`Codex CLI not available: ${codex.missing}`);
    const codexHome = join(world.root, 'codex-home');
    const codexWork = join(world.root, 'codex-work');
    mkdirSync(codexHome, { recursive: true });
    mkdirSync(codexWork, { recursive: true });
    // Codex reaches the ChatGPT backend's Responses endpoint as a provider of its own at the proxy (README: Codex CLI).
    const provider = ['-c', 'model_provider="tether-chatgpt"', '-c', 'model_providers.tether-chatgpt.name="ChatGPT through Tether"', '-c', 'model_providers.tether-chatgpt.env_key="OPENAI_API_KEY"', '-c', 'model_providers.tether-chatgpt.wire_api="responses"'];
    const offline = ['-c', 'check_for_update_on_startup=false', '-c', 'analytics.enabled=false', '-c', 'features.plugins=false'];
    const script = `printf "lease=%s\\n" "$OPENAI_API_KEY" >&2; cd "${codexWork}" && exec "${codex.bin}" exec "$@" -c "model_providers.tether-chatgpt.base_url=\\"$OPENAI_BASE_URL\\"" --skip-git-repo-check "say hello" </dev/null`;
    const from = chatgpt.apiCalls.length;
    await new Promise((resolve) => setTimeout(resolve, ACCESS_TTL_MS)); // the access token from the login is due for renewal
    const refreshesBefore = chatgpt.refreshCalls;
    const r = await runTether(['exec', '--provider', 'chatgpt-subscription', '--', 'sh', '-c', script, 'sh', ...provider, ...offline], {
      home: world.serverHome,
      bin: SERVER_BIN,
      env: { HOME: join(world.root, 'home'), CODEX_HOME: codexHome, OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, CODEX_API_KEY: undefined },
      timeoutMs: 90_000,
    });
    const lease = /lease=(\S*)/.exec(r.stderr)?.[1] ?? '';
    if (lease) world.tokens.add(lease);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lease).toMatch(/^tth_/);
    expect(r.stdout.trim()).toBe(STREAMED_SENTENCE);
    expect(chatgpt.refreshCalls).toBeGreaterThan(refreshesBefore);
    const seen = chatgpt.apiCalls.slice(from);
    expect(seen.map((c) => `${c.path} ${c.status}`)).toEqual(['/responses 200']);
    expect(chatgpt.issued.has(seen[0]!.headers.authorization!.slice('Bearer '.length))).toBe(true);
    expect(seen[0]!.headers['chatgpt-account-id']).toBe(ACCOUNT_ID);
    expect(JSON.stringify(seen[0]!.headers)).not.toContain('tth_');
    expect(scanForSecrets([codexHome, codexWork], [lease, ...chatgpt.issued])).toEqual([]);
  }, 120_000);

  it('a plain program holding a ChatGPT lease: 403 in OpenAI’s shape, saying it is lent only to Codex CLI', async () => {
    const token = await world.server(['token', 'chatgpt-subscription']);
    expect(token.code, token.stderr).toBe(0);
    world.tokens.add(token.stdout.trim());
    const res = await fetch(`${world.state.proxyUrl}/chatgpt-subscription/responses`, { method: 'POST', headers: { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-1', input: 'hi' }) });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringMatching(/lent only to Codex CLI; this request came from "[^"]+" \(pid \d+\)/) } });
  });
});

describe('a Google login lent to Gemini CLI', () => {
  it('the real Gemini CLI through `tether exec` on the imported login: Code Assist sees the laptop’s access token, never a lease; the laptop CLI’s login is untouched and still renews', async (ctx) => {
    if ('missing' in gemini) return ctx.skip(`Gemini CLI not available: ${gemini.missing}`);
    const geminiHome = join(world.root, 'gemini-home');
    const geminiWork = join(world.root, 'gemini-work');
    mkdirSync(join(geminiHome, '.gemini'), { recursive: true });
    mkdirSync(geminiWork, { recursive: true });
    writeFileSync(join(geminiHome, '.gemini/settings.json'), JSON.stringify({ privacy: { usageStatisticsEnabled: false } }));
    await new Promise((resolve) => setTimeout(resolve, ACCESS_TTL_MS)); // the imported access token is due for renewal
    const from = google.apiCalls.length;
    const refreshesBefore = google.refreshCalls;
    const script = `printf "lease=%s gca=%s\\n" "$GOOGLE_CLOUD_ACCESS_TOKEN" "$GOOGLE_GENAI_USE_GCA" >&2; cd "${geminiWork}" && exec "${process.execPath}" "${gemini.bin}" -p "say hello" </dev/null`;
    const r = await runTether(['exec', '--provider', 'gemini-subscription', '--', 'sh', '-c', script], {
      home: world.serverHome,
      bin: SERVER_BIN,
      env: { HOME: geminiHome, GEMINI_CLI_HOME: undefined, GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined, GOOGLE_GEMINI_BASE_URL: undefined, GEMINI_CLI_TRUST_WORKSPACE: 'true' },
      timeoutMs: 90_000,
    });
    const lease = /lease=(\S*)/.exec(r.stderr)?.[1] ?? '';
    if (lease) world.tokens.add(lease);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lease).toMatch(/^tth_/);
    expect(r.stderr).toContain('gca=true');
    expect(r.stdout.trim()).toBe(STREAMED_SENTENCE);
    expect(google.refreshCalls).toBeGreaterThan(refreshesBefore);
    const seen = google.apiCalls.slice(from);
    expect(seen.map((c) => c.path)).toContain('/v1internal:streamGenerateContent?alt=sse');
    for (const call of seen) {
      expect(call.status, call.path).toBe(200);
      expect(google.issued.has(String(call.headers.authorization).slice('Bearer '.length))).toBe(true);
      expect(JSON.stringify(call.headers)).not.toContain('tth_');
    }
    expect(scanForSecrets([geminiHome, geminiWork], [lease, ...google.issued])).toEqual([]);
    // The laptop's Gemini CLI: its file as it was, its refresh token still renews.
    expect(readFileSync(join(laptopGeminiHome, '.gemini/oauth_creds.json'), 'utf8')).toBe(laptopGeminiCreds);
    const spec = PROVIDERS['gemini-subscription']!.subscription!;
    const renewed = await fetch(google.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: geminiGrant.refreshToken, client_id: spec.clientId, client_secret: spec.refreshExtras!.client_secret! }).toString() });
    expect(renewed.status).toBe(200);
  }, 120_000);

  it('a plain program holding a Gemini lease: 403 in Google’s shape, saying it is lent only to Gemini CLI', async () => {
    const token = await world.server(['token', 'gemini-subscription']);
    expect(token.code, token.stderr).toBe(0);
    world.tokens.add(token.stdout.trim());
    const res = await fetch(`${world.state.proxyUrl}/gemini-subscription/v1internal:loadCodeAssist`, { method: 'POST', headers: { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED', message: expect.stringMatching(/lent only to Gemini CLI; this request came from "[^"]+" \(pid \d+\)/) } });
  });
});
