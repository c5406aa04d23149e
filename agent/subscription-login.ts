import type { SubscriptionSpec } from '../protocol/index.js';
import { AgentError } from './errors.js';

/**
 * A subscription login held on the laptop: an access token, and (unless it is a long-lived
 * token such as `claude setup-token` prints) the refresh token that renews it at the
 * vendor's token endpoint. Only the agent calls that endpoint; the server sees leases.
 */
export interface LoginTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms; absent: the token does not expire on a schedule we know (setup tokens). */
  expiresAt?: number;
  /** How long the last access token was issued for, so the refresh margin scales with it. */
  lifetimeMs?: number;
  /** ChatGPT's account id, sent in `chatgpt-account-id`. */
  accountId?: string;
}

const TOKEN_SHAPE = /^[\x21-\x7e]{8,8192}$/;
const REFRESH_TIMEOUT_MS = 15_000;
/** Without an `expires_in` or a JWT `exp`, assume the vendor's usual hour. */
const ASSUMED_LIFETIME_MS = 3_600_000;

/**
 * What `tether creds add PROVIDER --subscription` reads on stdin: a bare token (a long-lived
 * setup token), or the JSON a vendor's CLI keeps for its login (Claude Code's
 * `{claudeAiOauth: {accessToken, refreshToken, expiresAt}}`, Codex's `{tokens: {access_token,
 * refresh_token, account_id}}`, Gemini CLI's `{access_token, refresh_token, expiry_date}`) or the
 * same fields flat.
 */
export function parseLoginInput(text: string, now = Date.now()): LoginTokens {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (!TOKEN_SHAPE.test(trimmed)) throw new AgentError('no-secret', 'the token must be one line of printable characters, no spaces');
    return { accessToken: trimmed };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    throw new AgentError('no-secret', 'the login is neither a token nor valid JSON');
  }
  const outer = record(raw);
  const inner = record(outer.claudeAiOauth ?? outer.tokens ?? outer);
  const accessToken = text2(inner.accessToken ?? inner.access_token);
  const refreshToken = text2(inner.refreshToken ?? inner.refresh_token);
  const accountId = text2(inner.accountId ?? inner.account_id);
  const expiresAt = typeof inner.expiresAt === 'number' ? inner.expiresAt : typeof inner.expiry_date === 'number' ? inner.expiry_date : typeof inner.expires_in === 'number' ? now + inner.expires_in * 1000 : jwtExpiry(accessToken);
  if (!accessToken || !TOKEN_SHAPE.test(accessToken)) throw new AgentError('no-secret', 'the login JSON has no access token (accessToken or access_token)');
  if (refreshToken !== undefined && !TOKEN_SHAPE.test(refreshToken)) throw new AgentError('no-secret', 'the login JSON has a malformed refresh token');
  return { accessToken, ...(refreshToken ? { refreshToken } : {}), ...(expiresAt ? { expiresAt } : {}), ...(accountId ? { accountId } : {}) };
}

export const storedTokens = (t: LoginTokens): string => JSON.stringify({ v: 1, ...t });

/** The vault's form back; a bare token (an older entry, a hand edit) reads as a setup token. */
export function readStoredTokens(secret: string): LoginTokens {
  const parsed = parseLoginInput(secret);
  const lifetimeMs = secret.trim().startsWith('{') ? record(JSON.parse(secret)).lifetimeMs : undefined;
  return typeof lifetimeMs === 'number' ? { ...parsed, lifetimeMs } : parsed;
}

export interface LoginDeps {
  /** Writes rotated tokens back to the vault before they are used. */
  save(tokens: LoginTokens): Promise<void>;
  /**
   * Another process on this laptop (the tray app beside a `tether agent`) may hold the same
   * login: renewals run one at a time under `exclusive`, and each first reads the vault with
   * `reload`, so a refresh token another process already spent is never posted again.
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
  reload?(): Promise<LoginTokens | undefined>;
  /** One line for the laptop's log (a revoked login says so once). */
  notice?(line: string): void;
  fetch?: typeof fetch;
  now?: () => number;
}

/** One credential's login: the current access token, renewed before it expires, one refresh at a time. */
export class SubscriptionLogin {
  private inflight: Promise<LoginTokens> | undefined;
  private revoked: string | undefined;
  /** Refreshes done: for status and tests. */
  refreshes = 0;

  constructor(
    readonly name: string,
    private readonly spec: SubscriptionSpec,
    private tokens: LoginTokens,
    private readonly tokenUrl: string,
    private readonly deps: LoginDeps,
  ) {}

  /** Once no refresh is running: the tokens as the vault holds them (to tell whether someone replaced them). */
  async settled(): Promise<string> {
    await this.inflight?.catch(() => undefined);
    return storedTokens(this.tokens);
  }

  get accountId(): string | undefined {
    return this.tokens.accountId;
  }

  /** A fifth of the token's lifetime before it expires (at least 1 s, at most 5 min), it is renewed. */
  refreshAt(t: LoginTokens): number {
    if (t.expiresAt === undefined) return Infinity;
    const lifetime = t.lifetimeMs ?? ASSUMED_LIFETIME_MS;
    return t.expiresAt - Math.min(5 * 60_000, Math.max(1000, Math.floor(lifetime / 5)));
  }

  /** The access token to send now; concurrent callers share one refresh. */
  async accessToken(): Promise<string> {
    if (this.revoked) throw new AgentError('login-revoked', this.revoked);
    const now = this.now();
    if (now < this.refreshAt(this.tokens)) return this.tokens.accessToken;
    if (!this.tokens.refreshToken) {
      if (this.tokens.expiresAt !== undefined && now >= this.tokens.expiresAt) throw this.dead('its token expired and it has no refresh token');
      return this.tokens.accessToken;
    }
    try {
      return (await (this.inflight ??= this.refresh().finally(() => (this.inflight = undefined)))).accessToken;
    } catch (err) {
      // Refresh failed but the token is still good for a moment: use it; the next call tries again.
      if (!(err instanceof AgentError && err.code === 'login-revoked') && this.tokens.expiresAt !== undefined && this.now() < this.tokens.expiresAt) return this.tokens.accessToken;
      throw err;
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** The login is over: said once on the laptop, and the same words for every later request. */
  private dead(why: string): AgentError {
    this.revoked = `the ${this.spec.plan} login of "${this.name}" no longer works (${why}): add it again with ${this.spec.setupHint}`;
    this.deps.notice?.(`tether: ${this.revoked}`);
    return new AgentError('login-revoked', this.revoked);
  }

  private async refresh(): Promise<LoginTokens> {
    const { exclusive } = this.deps;
    return exclusive ? exclusive(() => this.refreshUnlessRenewed()) : this.post();
  }

  /** Under the lock: the vault may hold a renewal another process made meanwhile. */
  private async refreshUnlessRenewed(): Promise<LoginTokens> {
    const stored = await this.deps.reload?.();
    if (stored?.refreshToken && (stored.refreshToken !== this.tokens.refreshToken || stored.accessToken !== this.tokens.accessToken)) {
      // Renewed elsewhere: its refresh token is the live one (a rotating vendor killed ours).
      this.tokens = stored;
      if (this.now() < this.refreshAt(stored)) return stored;
    }
    return this.post();
  }

  private async post(): Promise<LoginTokens> {
    const posted = this.tokens.refreshToken!;
    const started = this.now();
    const fields = { grant_type: 'refresh_token', refresh_token: posted, client_id: this.spec.clientId, ...this.spec.refreshExtras };
    const form = this.spec.tokenBody === 'form';
    let res: Response;
    try {
      res = await (this.deps.fetch ?? fetch)(this.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', accept: 'application/json' },
        body: form ? new URLSearchParams(fields).toString() : JSON.stringify(fields),
        signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      throw new AgentError('login-refresh-failed', `cannot reach ${new URL(this.tokenUrl).host} to renew "${this.name}": ${(err as Error).name}`);
    }
    const body = record(await res.json().catch(() => ({})));
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      // invalid_grant and friends: the refresh token is dead (revoked, reused, expired). Said once.
      const code = typeof body.error === 'string' ? body.error.slice(0, 40).replace(/[^\w.-]/g, '') : `HTTP ${res.status}`;
      throw this.dead(`${new URL(this.tokenUrl).host} refused its refresh token: ${code}`);
    }
    const accessToken = text2(body.access_token);
    if (!res.ok || !accessToken || !TOKEN_SHAPE.test(accessToken)) throw new AgentError('login-refresh-failed', `${new URL(this.tokenUrl).host} answered the renewal of "${this.name}" with HTTP ${res.status} and no access token`);
    const rotated = text2(body.refresh_token);
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : undefined;
    const expiresAt = lifetimeMs !== undefined ? started + lifetimeMs : (jwtExpiry(accessToken) ?? started + ASSUMED_LIFETIME_MS);
    const next: LoginTokens = {
      ...this.tokens,
      accessToken,
      refreshToken: rotated && TOKEN_SHAPE.test(rotated) ? rotated : posted,
      expiresAt,
      lifetimeMs: lifetimeMs ?? expiresAt - started,
    };
    // A rotated refresh token is the only one that works from now on: stored before it is used.
    await this.deps.save(next);
    this.tokens = next;
    this.refreshes++;
    return next;
  }
}

/** A JWT's `exp` in ms (ChatGPT's access tokens are JWTs); undefined for opaque tokens. */
function jwtExpiry(token: string | undefined): number | undefined {
  const payload = token?.split('.')[1];
  if (!payload || token!.split('.').length !== 3) return undefined;
  try {
    const exp = record(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text2(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
