import path from 'node:path';
import { PROVIDERS, ProviderName, isValidKeyHeader, providerSpec, type ProviderSpec } from '../protocol/index.js';
import { readConfig, updateConfig, type CredentialEntry, type StoreKind } from './config.js';
import { AgentError } from './errors.js';
import { withFileLock } from './file-lock.js';
import { CommandToken, planCommand } from './forward-credential.js';
import { credentialAccount, type StoreShelf } from './secret-stores.js';
import { SubscriptionLogin, readStoredTokens, storedTokens, type LoginTokens } from './subscription-login.js';

export interface ResolvedCredential {
  entry: CredentialEntry;
  spec: ProviderSpec;
  /** Where requests go: the configured baseUrl or the provider's default, no trailing '/'. */
  baseUrl: string;
  secret: string;
  /** The header (lower-case) and prefix the key goes in upstream: the spec's, or a `custom` credential's own. */
  keyHeader: string;
  keyPrefix: string;
  /** Forward mode: mints the secret (then `secret` is empty); the daemon calls the provider itself. */
  minter?: CommandToken;
  /** A subscription login: its access token replaces `secret` on each relayed request. */
  login?: SubscriptionLogin;
}

export interface AddCredential {
  provider: string;
  name?: string;
  baseUrl?: string;
  /** `custom` only: header name and scheme prefix for the key (default `authorization` / `Bearer `). */
  keyHeader?: string;
  keyPrefix?: string;
  store: StoreKind;
  /** Omitted when the secret lives elsewhere already (an env variable, a running agent's memory). */
  secret?: string;
  /** Servers allowed to use it; omitted = every server. */
  servers?: string[];
  /** Forward mode: the command whose output is the secret, and how long one output is valid. */
  command?: string;
  ttlMs?: number;
  /** A subscription login (`provider` is then a subscription spec such as claude-subscription). */
  subscription?: { tokens: LoginTokens; anyClient?: boolean; tokenUrl?: string };
}

/** A forward credential's minted secret lasts this long unless `--ttl` says otherwise. */
export const DEFAULT_FORWARD_TTL_MS = 50 * 60_000;

export function knownProvider(id: string): ProviderSpec {
  const spec = providerSpec(id);
  if (!spec) throw new AgentError('unknown-provider', `unknown provider "${id}": known providers are ${Object.keys(PROVIDERS).join(', ')}`);
  return spec;
}

/**
 * Credentials this laptop can lend: metadata in config.json, secrets in the vault. Resolved
 * secrets are kept in memory so a relayed request never waits on the keychain or disk;
 * reload() forgets them.
 */
export class CredentialBook {
  private readonly resolved = new Map<string, Promise<ResolvedCredential>>();
  /**
   * Subscription logins outlive reload(): two instances of one login would each spend the
   * same refresh token, and a vendor that rotates them logs the second one out.
   */
  private readonly logins = new Map<string, SubscriptionLogin>();

  constructor(
    private readonly configFile: string,
    private readonly stores: StoreShelf,
    private readonly deps: {
      /** One-line notices for the laptop's log (a subscription login that stopped working). */
      notice?: (line: string) => void;
      /** The clock subscription logins renew by (tests move it instead of waiting). */
      now?: () => number;
    } = {},
  ) {}

  list(): CredentialEntry[] {
    return readConfig(this.configFile).credentials;
  }

  async add(req: AddCredential): Promise<CredentialEntry> {
    const spec = knownProvider(req.provider);
    const name = req.name ?? req.provider;
    if (!ProviderName.safeParse(name).success) {
      throw new AgentError('bad-config', `credential name "${name}" must be lower-case letters, digits, _ and -`);
    }
    if (req.baseUrl !== undefined) checkBaseUrl(req.baseUrl);
    else if (!spec.defaultBaseUrl) throw new AgentError('bad-url', `${spec.title} has no default address: give one with --base-url`);
    const keyHeader = req.keyHeader?.toLowerCase();
    if ((keyHeader !== undefined || req.keyPrefix !== undefined) && spec.id !== 'custom') {
      throw new AgentError('bad-config', `--key-header and --key-prefix are for custom credentials; ${spec.title} sends its key in ${spec.keyHeader}`);
    }
    if (keyHeader !== undefined && !isValidKeyHeader(keyHeader)) throw new AgentError('bad-config', `"${req.keyHeader}" cannot carry a key: use a header name such as authorization or x-api-key`);
    if (req.keyPrefix !== undefined && /[\r\n\0]/.test(req.keyPrefix)) throw new AgentError('bad-config', 'the key prefix must be one line');
    if (req.command !== undefined) {
      if (req.secret !== undefined) throw new AgentError('bad-config', 'a credential is either a stored secret or a --command, not both');
      planCommand(req.command); // refuses unclosed quotes and empty commands now, not at the first lease
    }
    if (req.subscription !== undefined) {
      if (!spec.subscription) throw new AgentError('bad-config', `${spec.title} is not a subscription login`);
      if (req.secret !== undefined || req.command !== undefined) throw new AgentError('bad-config', 'a subscription login is its tokens, not a key or a --command');
      if (req.store === 'env' || req.store === 'memory') throw new AgentError('bad-config', 'a subscription login needs a store it can write renewed tokens back to: keychain or file');
      if (req.subscription.tokenUrl !== undefined) checkTokenUrl(req.subscription.tokenUrl);
    } else if (spec.subscription) throw new AgentError('bad-config', `${spec.title} is a login: add it with \`tether creds add PROVIDER --subscription\``);
    if (req.ttlMs !== undefined && req.command === undefined) throw new AgentError('bad-config', '--ttl is for --command credentials');
    if (req.ttlMs !== undefined && (req.ttlMs < 5000 || req.ttlMs > 24 * 3_600_000)) throw new AgentError('bad-config', '--ttl must be between 5s and 24h');
    if (req.secret !== undefined) {
      if (!req.secret) throw new AgentError('no-secret', 'the secret is empty');
      const store = await this.stores.open(req.store);
      await store.set(credentialAccount(name), req.secret);
    }
    if (req.subscription !== undefined) {
      const store = await this.stores.open(req.store);
      await store.set(credentialAccount(name), storedTokens(req.subscription.tokens));
    }
    // A scheme belongs in Authorization only: `--key-header x-api-key` alone means the bare key.
    const keyPrefix = req.keyPrefix ?? (keyHeader !== undefined && keyHeader !== 'authorization' ? '' : undefined);
    const entry: CredentialEntry = {
      name,
      provider: req.provider,
      ...(req.baseUrl ? { baseUrl: storedBaseUrl(req.baseUrl, spec.env.baseUrlSuffix) } : {}),
      ...(keyHeader !== undefined ? { keyHeader } : {}),
      ...(keyPrefix !== undefined ? { keyPrefix } : {}),
      store: req.store,
      addedAt: new Date().toISOString(),
      ...(req.servers ? { servers: [...new Set(req.servers)] } : {}),
      ...(req.command !== undefined ? { command: req.command, ttlMs: req.ttlMs ?? DEFAULT_FORWARD_TTL_MS } : {}),
      ...(req.subscription !== undefined
        ? { subscription: { ...(req.subscription.anyClient ? { anyClient: true } : {}), ...(req.subscription.tokenUrl ? { tokenUrl: req.subscription.tokenUrl } : {}) } }
        : {}),
    };
    updateConfig(this.configFile, (c) => {
      c.credentials = c.credentials.filter((e) => e.name !== name);
      c.credentials.push(entry);
    });
    this.resolved.delete(name);
    this.logins.delete(name);
    return entry;
  }

  async remove(name: string): Promise<boolean> {
    const entry = this.list().find((e) => e.name === name);
    if (!entry) return false;
    const store = await this.stores.open(entry.store);
    if (store.writable) await store.delete(credentialAccount(name));
    updateConfig(this.configFile, (c) => {
      c.credentials = c.credentials.filter((e) => e.name !== name);
    });
    this.resolved.delete(name);
    this.logins.delete(name);
    return true;
  }

  /** What `server` may use: credentials with no allow-list, or whose list names it. */
  lendableTo(server: string): CredentialEntry[] {
    return this.list().filter((e) => !e.servers || e.servers.includes(server));
  }

  /** Sets who may use `name`; `undefined` lends it to every server again. */
  setServers(name: string, servers: string[] | undefined): CredentialEntry {
    let found: CredentialEntry | undefined;
    updateConfig(this.configFile, (c) => {
      const entry = c.credentials.find((e) => e.name === name);
      if (!entry) return;
      if (servers) entry.servers = [...new Set(servers)];
      else delete entry.servers;
      found = entry;
    });
    if (!found) throw new AgentError('not-found', `no credential named "${name}"`);
    return found;
  }

  resolve(name: string): Promise<ResolvedCredential> {
    let hit = this.resolved.get(name);
    if (!hit) {
      hit = this.load(name);
      this.resolved.set(name, hit);
      hit.catch(() => this.resolved.delete(name));
    }
    return hit;
  }

  /** Forget cached secrets; the next resolve reads config and vault again. */
  reload(): void {
    this.resolved.clear();
  }

  private async load(name: string): Promise<ResolvedCredential> {
    const entry = this.list().find((e) => e.name === name);
    if (!entry) throw new AgentError('unknown-credential', `no credential named "${name}": add it with \`tether creds add\``);
    const spec = knownProvider(entry.provider);
    const baseUrlOf = () => (entry.baseUrl ?? spec.defaultBaseUrl).replace(/\/+$/, '');
    const keyOf = { keyHeader: entry.keyHeader ?? spec.keyHeader, keyPrefix: entry.keyPrefix ?? spec.keyPrefix };
    if (entry.command !== undefined) {
      // Nothing runs here: the command runs only when a lease on it is granted (CommandToken.current).
      if (!baseUrlOf()) throw new AgentError('bad-url', `"${name}" has no base URL: add it again with --base-url`);
      const minter = new CommandToken(name, entry.command, entry.ttlMs ?? DEFAULT_FORWARD_TTL_MS);
      return { entry, spec, baseUrl: baseUrlOf(), secret: '', ...keyOf, minter };
    }
    const store = await this.stores.open(entry.store);
    const secret = await store.get(credentialAccount(name));
    if (!secret) throw new AgentError('no-secret', `the ${entry.store} store holds no secret for "${name}": add it again with \`tether creds add ${entry.provider} --name ${name}\``);
    const baseUrl = (entry.baseUrl ?? spec.defaultBaseUrl).replace(/\/+$/, '');
    if (!baseUrl) throw new AgentError('bad-url', `"${name}" has no base URL: add it again with --base-url`);
    if (entry.subscription && spec.subscription) {
      const kept = this.logins.get(name);
      if (kept && (await kept.settled()) === secret) return { entry, spec, baseUrl, secret: '', ...keyOf, login: kept };
      const tokenUrl = entry.subscription.tokenUrl ?? spec.subscription.tokenUrl;
      const login = new SubscriptionLogin(name, spec.subscription, readStoredTokens(secret), tokenUrl, {
        save: (tokens) => store.set(credentialAccount(name), storedTokens(tokens)),
        exclusive: (fn) => withFileLock(path.join(path.dirname(this.configFile), `renew-${name}.lock`), fn),
        reload: async () => {
          const now = await store.get(credentialAccount(name));
          return now ? readStoredTokens(now) : undefined;
        },
        ...(this.deps.notice ? { notice: this.deps.notice } : {}),
        ...(this.deps.now ? { now: this.deps.now } : {}),
      });
      this.logins.set(name, login);
      return { entry, spec, baseUrl, secret: '', ...keyOf, login };
    }
    return { entry, spec, baseUrl, secret, keyHeader: entry.keyHeader ?? spec.keyHeader, keyPrefix: entry.keyPrefix ?? spec.keyPrefix };
  }
}

/** The refresh token goes there: https, or plain http to this machine only (a local gateway, a test's vendor). */
export function checkTokenUrl(url: string): void {
  checkBaseUrl(url);
  const { protocol, hostname } = new URL(url);
  if (protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) throw new AgentError('bad-url', `--token-url ${url.slice(0, 100)}: a refresh token goes over https only (plain http to this machine is allowed)`);
}

export function checkBaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AgentError('bad-url', `"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new AgentError('bad-url', `base URL must be http(s), not ${parsed.protocol}`);
}

/**
 * The base URL as stored: without a trailing `/`, and without the part the clients add
 * themselves (`/v1` for OpenAI-compatible ones), which vLLM, Ollama and LM Studio include
 * in the URL they document; kept, every request would go to `/v1/v1/…`.
 */
export function storedBaseUrl(given: string, clientSuffix: string): string {
  const bare = given.replace(/\/+$/, '');
  return clientSuffix && bare.endsWith(clientSuffix) ? bare.slice(0, -clientSuffix.length) : bare;
}
