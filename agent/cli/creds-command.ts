import { PROVIDERS, SUBSCRIPTION_OF } from '../../protocol/index.js';
import { AgentControlClient } from '../control/client.js';
import { CredentialBook, knownProvider } from '../credentials.js';
import { parseTtl } from '../forward-credential.js';
import { importLogin } from '../login-import.js';
import { runVendorLogin } from '../vendor-login.js';
import { parseLoginInput } from '../subscription-login.js';
import { AgentError } from '../errors.js';
import { ensureDirs } from '../paths.js';
import { StoreShelf } from '../secret-stores.js';
import { parseCommand, UsageError } from './args.js';
import { storeKindFlag, type CliContext } from './context.js';
import { readSecret } from './tty.js';

export const CREDS_HELP = `  tether creds add PROVIDER [--name N] [--base-url URL] [--store keychain|file|env|memory] [--replace]
                                    add a credential; the secret is read from stdin or a hidden prompt;
                                    a name already taken needs --replace
                                    (custom: any OpenAI-compatible URL; --key-header H sends the bare key
                                    in H, --key-prefix P puts P before it; default "authorization: Bearer KEY")
                                    Default store: the system keychain, else the encrypted file vault,
                                    whose passphrase is asked twice at a terminal when it is created,
                                    or read from TETHER_VAULT_PASSPHRASE
  tether creds add PROVIDER --name N --command "CMD ARGS" [--ttl 50m] [--base-url URL] [--replace]
                                    forward mode: the secret is CMD's output, run on this laptop only
                                    when a lease is approved (cached until shortly before --ttl), and
                                    sent to the server, which calls the provider itself; no shell
                                    unless CMD uses shell syntax (| ; $ * …)
  tether creds add anthropic|openai|gemini --subscription [--name N] [--login|--import] [--any-client] [--replace]
                                    a subscription login (Claude Pro/Max for Claude Code, a ChatGPT
                                    plan for Codex CLI, a Google login for Gemini CLI), held on this
                                    laptop only and renewed here:
                                    a token on stdin (\`claude setup-token | tether creds add anthropic
                                    --subscription\`) or the login JSON the CLI keeps; --login runs
                                    the CLI's own sign-in (claude auth login, codex login) into a
                                    folder of tether's, deleted after; --import reads the CLI's own
                                    login and refuses one it would break. Lent only to the vendor's
                                    own CLI unless --any-client
  tether creds list [--json]        credentials this laptop lends (never the secret)
  tether creds rm NAME              forget a credential and its secret`;

export async function credsCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  ensureDirs(ctx.paths);
  const book = new CredentialBook(ctx.paths.config, new StoreShelf(ctx.openStore));
  switch (sub) {
    case 'add':
      return add(rest, ctx, book);
    case 'list':
    case 'ls':
      return list(rest, ctx, book);
    case 'rm':
    case 'remove': {
      const { positionals } = parseCommand('creds rm', rest, {});
      if (positionals.length !== 1) throw new UsageError('usage: tether creds rm NAME');
      if (!(await book.remove(positionals[0]!))) throw new AgentError('unknown-credential', `no credential named "${positionals[0]}"`);
      ctx.err(`removed ${positionals[0]}`);
      await notifyAgent(ctx);
      return 0;
    }
    default:
      throw new UsageError(sub ? `tether creds: unknown subcommand "${sub}": use add, list or rm` : 'usage: tether creds add|list|rm');
  }
}

async function add(args: string[], ctx: CliContext, book: CredentialBook): Promise<number> {
  const { values, positionals } = parseCommand('creds add', args, {
    name: { type: 'string' },
    'base-url': { type: 'string' },
    'key-header': { type: 'string' },
    'key-prefix': { type: 'string' },
    store: { type: 'string' },
    provider: { type: 'string' },
    command: { type: 'string' },
    ttl: { type: 'string' },
    replace: { type: 'boolean' },
    subscription: { type: 'boolean' },
    import: { type: 'boolean' },
    login: { type: 'boolean' },
    'any-client': { type: 'boolean' },
    'token-url': { type: 'string' },
  });
  if (values.subscription) return addSubscription(values, positionals, ctx, book);
  if (values.import || values.login || values['any-client'] || values['token-url'] !== undefined) throw new UsageError('--login, --import, --any-client and --token-url are for --subscription logins');
  if (values.command !== undefined || values.provider !== undefined) return addForward(values, positionals, ctx, book);
  if (values.ttl !== undefined) throw new UsageError('--ttl is for --command credentials');
  if (positionals.length !== 1) {
    throw new UsageError(`usage: tether creds add PROVIDER (one of ${Object.keys(PROVIDERS).join(', ')}); the secret comes from stdin, never the command line`);
  }
  const provider = positionals[0]!;
  const spec = knownProvider(provider);
  const name = values.name ?? provider;
  refuseTaken(book, name, values.replace);
  const store = storeKindFlag(values.store) ?? (await ctx.defaultStore());
  if (store === 'env') {
    const variable = `TETHER_SECRET_${name.toUpperCase().replace(/-/g, '_')}`;
    if (!ctx.env[variable]) throw new AgentError('no-secret', `the env store reads ${variable}, which is not set`);
  }
  // The memory store lives in the running agent; check it is there before asking for the secret.
  const control = store === 'memory' ? await runningAgent(ctx, 'a memory credential lives only in a running agent: start `tether agent` first') : undefined;
  const secret = store === 'env' ? (ctx.env[`TETHER_SECRET_${name.toUpperCase().replace(/-/g, '_')}`] ?? '') : await readSecret(`${spec.title} API key for "${name}"`);
  if (!secret) throw new AgentError('no-secret', 'no secret given: pipe it on stdin, e.g. `tether creds add openai < key.txt`');
  if (control) await control.call('memorySecret', { name, secret });
  const entry = await book.add({
    provider,
    name,
    ...endpointOf(values),
    store,
    // env and memory: the secret already lives in the variable or the agent; record metadata only.
    ...(store === 'env' || store === 'memory' ? {} : { secret }),
  });
  const why = values.store === undefined && store === 'file' ? ctx.keychainUnavailable() : undefined;
  ctx.err(`added ${entry.name} (${spec.title}, ${entry.store} store${entry.baseUrl ? `, ${entry.baseUrl}` : ''})${why ? `; no system keychain: ${why}` : ''}`);
  await notifyAgent(ctx);
  return 0;
}

/**
 * `creds add PROVIDER --name N --command CMD` (or `creds add N --provider PROVIDER --command CMD`):
 * a forward credential. Only metadata is written; the command runs in the agent, on approved leases.
 */
async function addForward(values: { replace?: boolean; name?: string; provider?: string; command?: string; ttl?: string; 'base-url'?: string; 'key-header'?: string; 'key-prefix'?: string; store?: string }, positionals: string[], ctx: CliContext, book: CredentialBook): Promise<number> {
  if (positionals.length !== 1 || values.command === undefined) throw new UsageError('usage: tether creds add PROVIDER --name N --command "CMD ARGS" [--ttl 50m]');
  if (values.store !== undefined) throw new UsageError('--store is for stored secrets; a --command credential keeps its minted secret in the agent\'s memory only');
  const provider = values.provider ?? positionals[0]!;
  const name = values.provider !== undefined ? positionals[0]! : (values.name ?? provider);
  const spec = knownProvider(provider);
  refuseTaken(book, name, values.replace);
  const entry = await book.add({
    provider,
    name,
    ...endpointOf(values),
    store: 'memory',
    command: values.command,
    ...(values.ttl !== undefined ? { ttlMs: parseTtl(values.ttl) } : {}),
  });
  ctx.err(`added ${entry.name} (${spec.title}, forward mode: runs its command on approved leases, each output valid ${Math.round((entry.ttlMs ?? 0) / 1000)} s)`);
  await notifyAgent(ctx);
  return 0;
}

/**
 * `creds add anthropic --subscription`: the vendor's login, read from stdin (a setup token or the
 * CLI's login JSON), signed in anew with --login, or, with --import, from the CLI's own store
 * when that breaks nothing.
 */
async function addSubscription(values: { replace?: boolean; name?: string; store?: string; import?: boolean; login?: boolean; 'any-client'?: boolean; 'token-url'?: string; 'base-url'?: string; command?: string; provider?: string; 'key-header'?: string; 'key-prefix'?: string }, positionals: string[], ctx: CliContext, book: CredentialBook): Promise<number> {
  const api = positionals[0];
  const provider = api === undefined ? undefined : (SUBSCRIPTION_OF[api] ?? (PROVIDERS[api]?.subscription ? api : undefined));
  if (positionals.length !== 1 || !provider) throw new UsageError(`usage: tether creds add ${Object.keys(SUBSCRIPTION_OF).join('|')} --subscription: the login comes from stdin or --import, never the command line`);
  if (values.command !== undefined || values.provider !== undefined || values['key-header'] !== undefined || values['key-prefix'] !== undefined) throw new UsageError('--subscription takes no --command, --provider, --key-header or --key-prefix');
  const spec = knownProvider(provider);
  const sub = spec.subscription!;
  const name = values.name ?? provider;
  refuseTaken(book, name, values.replace);
  const store = storeKindFlag(values.store) ?? (await ctx.defaultStore());
  if (values.import && values.login) throw new UsageError('--login signs in anew, --import copies the CLI\'s login: give one of them');
  let tokens;
  if (values.login) tokens = await runVendorLogin(provider, sub.setupHint, { home: ctx.paths.home, env: ctx.env });
  else if (values.import) tokens = importLogin(provider, sub.setupHint, ctx.env);
  else {
    const text = await readSecret(`${sub.plan} token or login JSON for "${name}"`);
    if (!text) throw new AgentError('no-secret', `no login given: pipe it on stdin, e.g. ${sub.setupHint}`);
    tokens = parseLoginInput(text);
  }
  const entry = await book.add({
    provider,
    name,
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    store,
    subscription: { tokens, ...(values['any-client'] ? { anyClient: true } : {}), ...(values['token-url'] ? { tokenUrl: values['token-url'] } : {}) },
  });
  const renewal = tokens.refreshToken ? 'renewed on this laptop before it expires' : 'a long-lived token, never renewed';
  ctx.err(`added ${entry.name} (${spec.title}, ${entry.store} store, ${renewal}; lent ${values['any-client'] ? 'to any program' : `only to ${sub.client}`})`);
  await notifyAgent(ctx);
  return 0;
}

/** Adding over a name would silently drop what it had (its base URL, store, command): only with --replace. */
function refuseTaken(book: CredentialBook, name: string, replace: boolean | undefined): void {
  if (replace) return;
  const taken = book.list().find((c) => c.name === name);
  if (!taken) return;
  const what = [knownProvider(taken.provider).title, taken.command !== undefined ? 'forward mode' : `${taken.store} store`, taken.baseUrl].filter(Boolean).join(', ');
  throw new AgentError('duplicate-credential', `a credential named "${name}" exists (${what}): add --replace to overwrite it with only what this command gives, or choose another --name`);
}

function list(args: string[], ctx: CliContext, book: CredentialBook): number {
  const { values } = parseCommand('creds list', args, { json: { type: 'boolean' } });
  const creds = book.list().map((c) => ({ name: c.name, provider: c.provider, baseUrl: c.baseUrl ?? knownProvider(c.provider).defaultBaseUrl, store: c.command !== undefined ? 'command' : c.store, addedAt: c.addedAt }));
  if (values.json) {
    ctx.out(JSON.stringify(creds, null, 2));
    return 0;
  }
  if (!creds.length) {
    ctx.out('no credentials yet: add one with `tether creds add openai < key.txt`');
    return 0;
  }
  const width = Math.max(4, ...creds.map((c) => c.name.length));
  ctx.out(`${'NAME'.padEnd(width)}  PROVIDER   STORE     BASE URL`);
  for (const c of creds) ctx.out(`${c.name.padEnd(width)}  ${c.provider.padEnd(9)}  ${c.store.padEnd(8)}  ${c.baseUrl}`);
  return 0;
}

async function runningAgent(ctx: CliContext, why: string): Promise<AgentControlClient> {
  const control = ctx.control();
  try {
    await control.call('status', {});
  } catch (err) {
    if (err instanceof AgentError && err.code === 'no-agent') throw new AgentError('no-agent', `no tether agent is running: ${why}`);
    throw err;
  }
  return control;
}

/** A running agent re-reads credentials and re-offers; none running is fine. */
async function notifyAgent(ctx: CliContext): Promise<void> {
  try {
    const { credentials } = await ctx.control().call('reloadCredentials', {});
    ctx.err(`the running agent now lends ${credentials.join(', ') || 'nothing'}`);
  } catch (err) {
    if (!(err instanceof AgentError && err.code === 'no-agent')) ctx.err(`tether: could not tell the running agent: ${(err as Error).message}`);
  }
}

/** Where and how a credential's key is sent, from `--base-url`, `--key-header` and `--key-prefix`. */
function endpointOf(values: { 'base-url'?: string; 'key-header'?: string; 'key-prefix'?: string }): { baseUrl?: string; keyHeader?: string; keyPrefix?: string } {
  return {
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    ...(values['key-header'] !== undefined ? { keyHeader: values['key-header'] } : {}),
    ...(values['key-prefix'] !== undefined ? { keyPrefix: values['key-prefix'] } : {}),
  };
}
