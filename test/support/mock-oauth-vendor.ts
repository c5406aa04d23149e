/**
 * A subscription vendor on 127.0.0.1: an OAuth authorization server (authorize with PKCE,
 * a token endpoint that rotates refresh tokens, access tokens that expire in seconds,
 * refresh tokens that can be revoked) in front of an API that checks the bearer and the
 * headers the vendor requires on subscription traffic, then answers through the mock
 * provider (so real CLIs get the replies they expect). Its clock can be moved to simulate
 * weeks of renewals.
 */
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MockProvider } from '../fixtures/mock-provider.js';

/** anthropic: Messages API; chatgpt: the Codex Responses endpoint; google: Gemini Code Assist (`v1internal:…`), no rotation. */
export type VendorDialect = 'anthropic' | 'chatgpt' | 'google';

export interface OAuthVendorOptions {
  dialect: VendorDialect;
  clientId: string;
  /** How long an access token lives. */
  accessTtlMs: number;
  /** Answers authenticated API calls, reached with this key in its own header. */
  upstream: MockProvider;
  upstreamKey: string;
  accountId?: string;
  /** google: the installed-app client secret the token endpoint wants. */
  clientSecret?: string;
}

/** The Code Assist project the google dialect hands out and then expects. */
export const CODE_ASSIST_PROJECT = 'proj-mock-0001';

export interface Grant {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

export interface ApiCall {
  path: string;
  status: number;
  headers: IncomingMessage['headers'];
  why?: string;
}

interface Family {
  id: number;
  revoked: boolean;
  /** The one refresh token of this login that works now. */
  current: string;
  spent: Set<string>;
}

export interface OAuthVendor {
  url: string;
  tokenUrl: string;
  authorizeUrl: string;
  /** Every access and refresh token issued: the leak scans look for all of them. */
  issued: Set<string>;
  apiCalls: ApiCall[];
  /** Refresh requests answered (successful or not). */
  refreshCalls: number;
  /** A login as the vendor's CLI would complete it (authorize + code exchange): its own refresh-token family. */
  login(): Promise<Grant>;
  /** Revokes the login that a refresh token belongs to (the user signed out elsewhere, or the vendor did). */
  revoke(refreshToken: string): void;
  /** Moves the vendor's clock. */
  advance(ms: number): void;
  now(): number;
  close(): Promise<void>;
}

export async function startOAuthVendor(opts: OAuthVendorOptions): Promise<OAuthVendor> {
  let skew = 0;
  const now = () => Date.now() + skew;
  const families: Family[] = [];
  const byRefresh = new Map<string, Family>();
  const access = new Map<string, { expiresAt: number; family: Family }>();
  const codes = new Map<string, { challenge: string; redirect: string }>();
  const issued = new Set<string>();
  const apiCalls: ApiCall[] = [];
  const state = { refreshCalls: 0 };

  const mint = (prefix: string) => {
    const t = `${prefix}${randomBytes(18).toString('base64url')}`;
    issued.add(t);
    return t;
  };
  const issue = (family: Family, renewal = false) => {
    // Google keeps the refresh token across renewals (and does not send it again); the others rotate it.
    const keep = opts.dialect === 'google' && renewal;
    const refreshToken = keep ? family.current : mint({ anthropic: 'sk-ant-ort01-', chatgpt: 'rt_', google: '1//' }[opts.dialect]);
    // ChatGPT's access tokens are JWTs whose `exp` its clients read; Anthropic's are opaque.
    const exp = Math.floor((now() + opts.accessTtlMs) / 1000);
    const accessToken = opts.dialect === 'anthropic' ? mint('sk-ant-oat01-') : opts.dialect === 'google' ? mint('ya29.') : mint(`eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ exp, sub: opts.accountId })).toString('base64url')}.`);
    family.current = refreshToken;
    byRefresh.set(refreshToken, family);
    access.set(accessToken, { expiresAt: now() + opts.accessTtlMs, family });
    return { access_token: accessToken, ...(keep ? {} : { refresh_token: refreshToken }), expires_in: opts.accessTtlMs / 1000, token_type: 'Bearer' };
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vendor.invalid');
    if (req.method === 'GET' && url.pathname === '/oauth/authorize') return authorize(url, res);
    if (req.method === 'POST' && url.pathname === '/v1/oauth/token') return token(await body(req), String(req.headers['content-type'] ?? ''), res);
    return api(req, res, url);
  }

  function authorize(url: URL, res: ServerResponse): void {
    const challenge = url.searchParams.get('code_challenge');
    const redirect = url.searchParams.get('redirect_uri');
    if (url.searchParams.get('client_id') !== opts.clientId || !challenge || !redirect || url.searchParams.get('code_challenge_method') !== 'S256') {
      return json(res, 400, { error: 'invalid_request' });
    }
    const code = randomBytes(12).toString('hex');
    codes.set(code, { challenge, redirect });
    res.writeHead(302, { location: `${redirect}?code=${code}&state=${encodeURIComponent(url.searchParams.get('state') ?? '')}` });
    res.end();
  }

  function token(raw: Buffer, type: string, res: ServerResponse): void {
    let form: Record<string, unknown>;
    try {
      form = type.startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw.toString('utf8'))) : (JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
    } catch {
      return json(res, 400, { error: 'invalid_request', error_description: 'the body must be JSON or a form' });
    }
    if (form.client_id !== opts.clientId) return json(res, 401, { error: 'invalid_client' });
    if (opts.dialect === 'google' && form.grant_type === 'refresh_token' && form.client_secret !== opts.clientSecret) return json(res, 401, { error: 'invalid_client' });
    if (form.grant_type === 'authorization_code') {
      const pending = typeof form.code === 'string' ? codes.get(form.code) : undefined;
      const verifier = typeof form.code_verifier === 'string' ? form.code_verifier : '';
      if (!pending || createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return json(res, 400, { error: 'invalid_grant' });
      codes.delete(form.code as string);
      const family: Family = { id: families.length, revoked: false, current: '', spent: new Set() };
      families.push(family);
      return json(res, 200, issue(family));
    }
    if (form.grant_type !== 'refresh_token') return json(res, 400, { error: 'unsupported_grant_type' });
    state.refreshCalls++;
    const given = typeof form.refresh_token === 'string' ? form.refresh_token : '';
    const family = byRefresh.get(given);
    if (!family || family.revoked) return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token revoked' });
    if (family.current !== given) {
      // A spent refresh token came back: two holders of one login. The whole login is revoked.
      family.revoked = true;
      return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token reused' });
    }
    if (opts.dialect !== 'google') family.spent.add(given);
    return json(res, 200, issue(family, true));
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const record: ApiCall = { path: url.pathname + url.search, status: 0, headers: req.headers };
    apiCalls.push(record);
    const refuse = (status: number, why: string) => {
      record.status = status;
      record.why = why;
      req.resume();
      const shaped = {
        anthropic: { type: 'error', error: { type: status === 401 ? 'authentication_error' : 'invalid_request_error', message: why } },
        chatgpt: { error: { message: why, type: 'invalid_request_error', code: null } },
        google: { error: { code: status, message: why, status: status === 401 ? 'UNAUTHENTICATED' : 'INVALID_ARGUMENT' } },
      }[opts.dialect];
      return json(res, status, shaped);
    };
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const live = bearer ? access.get(bearer) : undefined;
    if (!live) return refuse(401, 'invalid bearer token');
    if (live.family.revoked) return refuse(401, 'login revoked');
    if (now() >= live.expiresAt) return refuse(401, 'access token expired');
    if (req.headers['x-api-key'] !== undefined) return refuse(400, 'x-api-key with an OAuth bearer');
    if (opts.dialect === 'google') return codeAssist(req, res, url, record, refuse);
    let upstreamPath = url.pathname + url.search;
    if (opts.dialect === 'anthropic') {
      const betas = String(req.headers['anthropic-beta'] ?? '').split(',').map((s) => s.trim());
      if (!betas.includes('oauth-2025-04-20')) return refuse(401, 'OAuth authentication is currently not supported without anthropic-beta: oauth-2025-04-20');
    } else {
      if (req.headers['chatgpt-account-id'] !== opts.accountId) return refuse(401, 'chatgpt-account-id is missing or not this account');
      // The ChatGPT backend's Codex endpoint is /backend-api/codex/responses; the mock answers it at /v1/responses.
      upstreamPath = upstreamPath.replace(/^\/responses/, '/v1/responses');
    }
    record.status = 200;
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: new URL(opts.upstream.url).host };
    delete headers.authorization;
    if (opts.dialect === 'anthropic') headers['x-api-key'] = opts.upstreamKey;
    else headers.authorization = `Bearer ${opts.upstreamKey}`;
    const up = http.request(new URL(upstreamPath, opts.upstream.url), { method: req.method, headers }, (answer) => {
      record.status = answer.statusCode ?? 502;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  /**
   * Gemini Code Assist as Gemini CLI uses it: setup calls answered here, the two generate calls
   * answered by the mock provider's Gemini API with the request unwrapped and each answer wrapped
   * in `{response: …}` (one per SSE event when streamed).
   */
  async function codeAssist(req: IncomingMessage, res: ServerResponse, url: URL, record: ApiCall, refuse: (status: number, why: string) => void): Promise<void> {
    const method = /^\/v1internal:([A-Za-z]+)$/.exec(url.pathname)?.[1];
    const asked = JSON.parse((await body(req)).toString('utf8') || '{}') as { model?: string; project?: string; request?: unknown };
    record.status = 200;
    switch (method) {
      case 'loadCodeAssist':
        return json(res, 200, { currentTier: { id: 'standard-tier', name: 'Gemini Code Assist' }, allowedTiers: [{ id: 'standard-tier', isDefault: true }], cloudaicompanionProject: CODE_ASSIST_PROJECT });
      case 'retrieveUserQuota':
        return json(res, 200, { buckets: [] });
      case 'listExperiments':
        return json(res, 200, { experimentIds: [], flags: [] });
      case 'generateContent':
      case 'streamGenerateContent': {
        if (asked.project !== CODE_ASSIST_PROJECT) return refuse(403, `project ${String(asked.project)} is not this account's`);
        const stream = method === 'streamGenerateContent';
        const answer = await fetch(`${opts.upstream.url}/v1beta/models/${encodeURIComponent(asked.model ?? '')}:${method}${stream ? '?alt=sse' : ''}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-api-key': opts.upstreamKey },
          body: JSON.stringify(asked.request ?? {}),
        });
        record.status = answer.status;
        const text = await answer.text();
        if (!answer.ok) return json(res, answer.status, JSON.parse(text));
        res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
        if (!stream) return void res.end(JSON.stringify({ response: JSON.parse(text) }));
        res.end(text.replace(/^data: (.*)$/gm, (_, data: string) => `data: ${JSON.stringify({ response: JSON.parse(data) })}`));
        return;
      }
      default:
        record.status = 404;
        return json(res, 404, { error: { code: 404, message: `no method ${url.pathname}`, status: 'NOT_FOUND' } });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    tokenUrl: `${base}/v1/oauth/token`,
    authorizeUrl: `${base}/oauth/authorize`,
    issued,
    apiCalls,
    get refreshCalls() {
      return state.refreshCalls;
    },
    async login() {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const redirect = 'http://127.0.0.1:1/callback';
      const at = `${base}/oauth/authorize?client_id=${encodeURIComponent(opts.clientId)}&redirect_uri=${encodeURIComponent(redirect)}&code_challenge=${challenge}&code_challenge_method=S256&state=s`;
      const answer = await fetch(at, { redirect: 'manual' });
      const code = new URL(answer.headers.get('location') ?? '', 'http://x').searchParams.get('code');
      const exchanged = await fetch(`${base}/v1/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'authorization_code', code, code_verifier: verifier, client_id: opts.clientId }) });
      const t = (await exchanged.json()) as { access_token: string; refresh_token: string; expires_in: number };
      return { accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: now() + t.expires_in * 1000 };
    },
    revoke(refreshToken) {
      const family = byRefresh.get(refreshToken);
      if (family) family.revoked = true;
    },
    advance(ms) {
      skew += ms;
    },
    now,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
