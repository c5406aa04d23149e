/**
 * What Tether knows about each provider: where its API lives, how its clients send a key,
 * which environment variables those clients read, and how its errors look (so the proxy's
 * own 401s read like the provider's). Pure data, shared by both sides.
 */

export type ErrorShape = 'openai' | 'anthropic' | 'gemini';
export type KeyHeader = 'authorization' | 'x-api-key' | 'x-goog-api-key' | 'api-key';

export interface ProviderEnv {
  /** Variables that carry the key (the lease token on the server). `{NAME}`: the credential name, upper-case. */
  apiKey: string[];
  /** Variables that carry the base URL: the proxy URL plus `baseUrlSuffix`. */
  baseUrl: string[];
  baseUrlSuffix: string;
  /** Variables whose clients append less than the others do (LiteLLM's GEMINI_API_BASE, GROQ_API_BASE): their own suffix. */
  suffixOf?: Readonly<Record<string, string>>;
  /**
   * Variables the same clients prefer over ours (Claude Code: ANTHROPIC_AUTH_TOKEN over
   * ANTHROPIC_API_KEY and both over its apiKeyHelper; @google/genai: GOOGLE_API_KEY over
   * GEMINI_API_KEY). `tether exec` removes them from the child, `tether env` unsets them.
   */
  overriding: string[];
  /** Variables set to a fixed value (Gemini CLI's `GOOGLE_GENAI_USE_GCA=true`: use the given access token). */
  fixed?: Readonly<Record<string, string>>;
}

export interface ProviderSpec {
  id: string;
  title: string;
  /** Empty when every account has its own host (azure-openai, custom): `--base-url` is then required. */
  defaultBaseUrl: string;
  /** How the real key is sent upstream; `custom` credentials may name any header. */
  keyHeader: string;
  /** Prefix before the key in that header, e.g. `Bearer `. */
  keyPrefix: string;
  /** Headers the provider requires that a bare HTTP client might not send; added only when absent. */
  requiredHeaders: Readonly<Record<string, string>>;
  errorShape: ErrorShape;
  env: ProviderEnv;
  /** A query parameter some of its clients send the key in (Google's REST `?key=`); the proxy takes a lease from it too. */
  keyQueryParam?: string;
  /** How LiteLLM (and so aider) reaches it: its model prefix and the two variables it reads, a subset of `env`'s. */
  litellm?: LiteLLMRoute;
  /** A vendor's subscription login (not an API key), lent only to that vendor's own client by default. */
  subscription?: SubscriptionSpec;
}

/**
 * What a subscription login needs besides the API's address: its vendor's token endpoint
 * (called on the laptop only), the client the vendor permits it for, and the headers that
 * vendor requires on subscription traffic.
 */
export interface SubscriptionSpec {
  /** The plan, as the vendor names it: "Claude Pro/Max". */
  plan: string;
  /** The vendor's own client, as the approval prompt names it: "Claude Code". */
  client: string;
  /** Program names of that client as /proc shows them (argv[0], or the script a runtime runs). */
  programs: readonly string[];
  tokenUrl: string;
  clientId: string;
  /** How the refresh request is encoded: JSON (Anthropic, OpenAI) or a form (Google). */
  tokenBody?: 'json' | 'form';
  /** Extra fields of the refresh request (Codex asks for `scope`). */
  refreshExtras?: Readonly<Record<string, string>>;
  /** Comma-list headers that must contain a value (Anthropic's `anthropic-beta: oauth-2025-04-20`), merged with the client's. */
  listHeaders?: Readonly<Record<string, string>>;
  /** The header the login's account id goes in (ChatGPT's `chatgpt-account-id`). */
  accountHeader?: string;
  /** How to give Tether a login of its own, for the messages that send the user there. */
  setupHint: string;
}

export interface LiteLLMRoute {
  /** `aider --model PREFIX/MODEL`. */
  modelPrefix: string;
  baseUrl: string;
  apiKey: string;
}

const BEARER = { keyHeader: 'authorization', keyPrefix: 'Bearer ' } as const;
const NONE: Readonly<Record<string, string>> = {};

/** An OpenAI-compatible provider: Bearer key, OpenAI's error shape, `/v1` under its base URL. */
function openaiCompatible(id: string, title: string, defaultBaseUrl: string, env: Partial<ProviderEnv> & { apiKey: string[]; baseUrl: string[] }, litellm?: LiteLLMRoute): ProviderSpec {
  return { id, title, defaultBaseUrl, ...BEARER, requiredHeaders: NONE, errorShape: 'openai', env: { baseUrlSuffix: '/v1', overriding: [], ...env }, ...(litellm ? { litellm } : {}) };
}

/** LiteLLM's `<PREFIX>_API_BASE` / `<PREFIX>_API_KEY` pair (litellm/llms/<provider>/…: `get_secret_str("…_API_BASE")`). */
const litellmPair = (modelPrefix: string, vars: string): LiteLLMRoute => ({ modelPrefix, baseUrl: `${vars}_API_BASE`, apiKey: `${vars}_API_KEY` });

export const PROVIDERS: Readonly<Record<string, ProviderSpec>> = {
  // OPENAI_API_BASE: the older name aider, LiteLLM and langchain still read.
  openai: openaiCompatible('openai', 'OpenAI', 'https://api.openai.com', { apiKey: ['OPENAI_API_KEY'], baseUrl: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'] }, litellmPair('openai', 'OPENAI')),
  anthropic: {
    id: 'anthropic',
    title: 'Anthropic',
    defaultBaseUrl: 'https://api.anthropic.com',
    keyHeader: 'x-api-key',
    keyPrefix: '',
    requiredHeaders: { 'anthropic-version': '2023-06-01' },
    errorShape: 'anthropic',
    // ANTHROPIC_API_BASE: what LiteLLM (and so aider) reads first; it appends /v1/messages.
    env: { apiKey: ['ANTHROPIC_API_KEY'], baseUrl: ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_BASE'], baseUrlSuffix: '', overriding: ['ANTHROPIC_AUTH_TOKEN'] },
    litellm: litellmPair('anthropic', 'ANTHROPIC'),
  },
  // Google AI Studio. @google/genai and Gemini CLI read GOOGLE_GEMINI_BASE_URL and prefer GOOGLE_API_KEY.
  gemini: {
    id: 'gemini',
    title: 'Google Gemini',
    defaultBaseUrl: 'https://generativelanguage.googleapis.com',
    keyHeader: 'x-goog-api-key',
    keyPrefix: '',
    requiredHeaders: NONE,
    errorShape: 'gemini',
    // GEMINI_API_BASE: LiteLLM's name; with it set, LiteLLM calls `{base}/models/{model}:{method}`
    // (BerriAI/litellm#14604), so it carries the API version. Without it, LiteLLM sends the key as `?key=`.
    env: { apiKey: ['GEMINI_API_KEY'], baseUrl: ['GOOGLE_GEMINI_BASE_URL', 'GEMINI_API_BASE'], baseUrlSuffix: '', suffixOf: { GEMINI_API_BASE: '/v1beta' }, overriding: ['GOOGLE_API_KEY'] },
    keyQueryParam: 'key',
    litellm: litellmPair('gemini', 'GEMINI'),
  },
  openrouter: openaiCompatible('openrouter', 'OpenRouter', 'https://openrouter.ai/api', { apiKey: ['OPENROUTER_API_KEY'], baseUrl: ['OPENROUTER_BASE_URL', 'OPENROUTER_API_BASE'] }, litellmPair('openrouter', 'OPENROUTER')),
  // The groq SDK's base URL is the host (its paths start with /openai/v1); LiteLLM's GROQ_API_BASE includes /openai/v1.
  groq: openaiCompatible('groq', 'Groq', 'https://api.groq.com', { apiKey: ['GROQ_API_KEY'], baseUrl: ['GROQ_BASE_URL', 'GROQ_API_BASE'], baseUrlSuffix: '', suffixOf: { GROQ_API_BASE: '/openai/v1' } }, litellmPair('groq', 'GROQ')),
  mistral: openaiCompatible('mistral', 'Mistral', 'https://api.mistral.ai', { apiKey: ['MISTRAL_API_KEY'], baseUrl: ['MISTRAL_API_BASE'] }, litellmPair('mistral', 'MISTRAL')),
  deepseek: openaiCompatible('deepseek', 'DeepSeek', 'https://api.deepseek.com', { apiKey: ['DEEPSEEK_API_KEY'], baseUrl: ['DEEPSEEK_API_BASE'] }, litellmPair('deepseek', 'DEEPSEEK')),
  xai: openaiCompatible('xai', 'xAI', 'https://api.x.ai', { apiKey: ['XAI_API_KEY'], baseUrl: ['XAI_BASE_URL', 'XAI_API_BASE'] }, litellmPair('xai', 'XAI')),
  // Per-resource host (https://RESOURCE.openai.azure.com); the openai SDK's AzureOpenAI reads these two.
  'azure-openai': {
    id: 'azure-openai',
    title: 'Azure OpenAI',
    defaultBaseUrl: '',
    keyHeader: 'api-key',
    keyPrefix: '',
    requiredHeaders: NONE,
    errorShape: 'openai',
    // AZURE_API_BASE / AZURE_API_KEY: LiteLLM's names for the same two (it also reads AZURE_API_VERSION, the user's to set).
    env: { apiKey: ['AZURE_OPENAI_API_KEY', 'AZURE_API_KEY'], baseUrl: ['AZURE_OPENAI_ENDPOINT', 'AZURE_API_BASE'], baseUrlSuffix: '', overriding: ['AZURE_OPENAI_AD_TOKEN'] },
    litellm: litellmPair('azure', 'AZURE'),
  },
  // Claude Code on a Claude Pro/Max login: CLAUDE_CODE_OAUTH_TOKEN carries the lease, Claude Code
  // then sends `Authorization: Bearer` with `anthropic-beta: oauth-2025-04-20` to ANTHROPIC_BASE_URL.
  'claude-subscription': {
    id: 'claude-subscription',
    title: 'Claude subscription (Pro/Max)',
    defaultBaseUrl: 'https://api.anthropic.com',
    ...BEARER,
    requiredHeaders: { 'anthropic-version': '2023-06-01' },
    errorShape: 'anthropic',
    env: { apiKey: ['CLAUDE_CODE_OAUTH_TOKEN'], baseUrl: ['ANTHROPIC_BASE_URL'], baseUrlSuffix: '', overriding: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_REFRESH_TOKEN'] },
    subscription: {
      plan: 'Claude Pro/Max',
      client: 'Claude Code',
      programs: ['claude'],
      tokenUrl: 'https://platform.claude.com/v1/oauth/token',
      clientId: '9d1c250a-e61b-44d9-88ed-5944d1962f5e',
      listHeaders: { 'anthropic-beta': 'oauth-2025-04-20' },
      setupHint: '`claude setup-token` (a long-lived token for this purpose) given to `tether creds add anthropic --subscription` on stdin, or `tether creds add anthropic --subscription --login`',
    },
  },
  // Codex CLI on a ChatGPT plan: the ChatGPT backend's Responses endpoint, the plan's account in a header.
  'chatgpt-subscription': {
    id: 'chatgpt-subscription',
    title: 'ChatGPT subscription',
    defaultBaseUrl: 'https://chatgpt.com/backend-api/codex',
    ...BEARER,
    requiredHeaders: { originator: 'codex_cli_rs' },
    errorShape: 'openai',
    env: { apiKey: ['OPENAI_API_KEY'], baseUrl: ['OPENAI_BASE_URL'], baseUrlSuffix: '', overriding: ['CODEX_API_KEY'] },
    subscription: {
      plan: 'ChatGPT Plus/Pro/Team',
      client: 'Codex CLI',
      programs: ['codex'],
      tokenUrl: 'https://auth.openai.com/oauth/token',
      clientId: 'app_EMoamEEZ73f0CkXaXp7hrann',
      refreshExtras: { scope: 'openid profile email' },
      accountHeader: 'chatgpt-account-id',
      setupHint: 'a login of its own: `tether creds add openai --subscription --login` (Codex CLI\'s sign-in, into a folder tether deletes after)',
    },
  },
  // Gemini CLI on a Google login (Gemini Code Assist): GOOGLE_GENAI_USE_GCA + GOOGLE_CLOUD_ACCESS_TOKEN
  // make it use a given token, CODE_ASSIST_ENDPOINT moves the Code Assist API to the proxy.
  'gemini-subscription': {
    id: 'gemini-subscription',
    title: 'Google login (Gemini Code Assist)',
    defaultBaseUrl: 'https://cloudcode-pa.googleapis.com',
    ...BEARER,
    requiredHeaders: NONE,
    errorShape: 'gemini',
    env: {
      apiKey: ['GOOGLE_CLOUD_ACCESS_TOKEN'],
      baseUrl: ['CODE_ASSIST_ENDPOINT'],
      baseUrlSuffix: '',
      overriding: ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GEMINI_BASE_URL', 'GOOGLE_GENAI_USE_VERTEXAI'],
      fixed: { GOOGLE_GENAI_USE_GCA: 'true' },
    },
    subscription: {
      plan: 'Google account (Gemini Code Assist)',
      client: 'Gemini CLI',
      programs: ['gemini'],
      tokenUrl: 'https://oauth2.googleapis.com/token',
      // Gemini CLI's installed-app client: published in its source, not a secret (Google's installed-app flow).
      clientId: '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com',
      tokenBody: 'form',
      refreshExtras: { client_secret: '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' },
      setupHint: '`tether creds add gemini --subscription --import` (Google keeps refresh tokens, so sharing Gemini CLI\'s login breaks nothing)',
    },
  },
  // Any OpenAI-compatible endpoint (vLLM, Ollama, LM Studio, a corporate gateway); header and scheme set per credential.
  custom: openaiCompatible('custom', 'OpenAI-compatible endpoint', '', { apiKey: ['{NAME}_API_KEY'], baseUrl: ['{NAME}_BASE_URL'] }),
};

/** `tether creds add anthropic --subscription` means the Claude login: the subscription spec of each API provider. */
export const SUBSCRIPTION_OF: Readonly<Record<string, string>> = { anthropic: 'claude-subscription', openai: 'chatgpt-subscription', gemini: 'gemini-subscription' };

const RUNTIMES = /^(?:node|nodejs|node\d+|bun|deno)$/;

/**
 * The program a command line runs, as a vendor's client is recognised: argv[0]'s file name,
 * or for a script run by node/bun/deno the script's (without .js/.mjs/.cjs).
 */
export function programOf(cmdline: readonly string[]): string | undefined {
  const base = (arg: string) => arg.slice(arg.lastIndexOf('/') + 1);
  const first = cmdline[0];
  if (!first) return undefined;
  if (!RUNTIMES.test(base(first))) return base(first);
  const script = cmdline.slice(1).find((a) => !a.startsWith('-'));
  return script ? base(script).replace(/\.(?:js|mjs|cjs)$/, '') : base(first);
}

export function providerSpec(id: string): ProviderSpec | undefined {
  return Object.hasOwn(PROVIDERS, id) ? PROVIDERS[id] : undefined;
}

/** The environment variable names of one credential: `{NAME}` becomes `MY_VLLM` for a credential named `my-vllm`. */
export function envNames(spec: ProviderSpec, credentialName: string): ProviderEnv {
  const upper = credentialName.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const fill = (list: string[]) => list.map((v) => v.replace('{NAME}', upper));
  return {
    apiKey: fill(spec.env.apiKey),
    baseUrl: fill(spec.env.baseUrl),
    baseUrlSuffix: spec.env.baseUrlSuffix,
    ...(spec.env.suffixOf ? { suffixOf: spec.env.suffixOf } : {}),
    overriding: fill(spec.env.overriding),
    ...(spec.env.fixed ? { fixed: spec.env.fixed } : {}),
  };
}

/** What one base-URL variable is set to: the credential's path at the proxy plus that variable's suffix. */
export function baseUrlFor(env: ProviderEnv, variable: string, proxyUrl: string, credentialName: string): string {
  return `${proxyUrl}/${credentialName}${env.suffixOf?.[variable] ?? env.baseUrlSuffix}`;
}

/** A header name a `custom` credential may send its key in (an HTTP token, none of the hop-by-hop ones). */
export function isValidKeyHeader(name: string): boolean {
  return /^[a-z0-9][a-z0-9-]{0,63}$/.test(name) && !['host', 'connection', 'content-length', 'transfer-encoding', 'cookie'].includes(name);
}

/** Headers in which clients put a key; the proxy takes the lease from any and strips them all. */
export const KEY_HEADERS: readonly KeyHeader[] = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key'];

export type ErrorKind = 'authentication' | 'permission' | 'unavailable' | 'bad-request' | 'not-found' | 'upstream' | 'timeout';

/** An error body in the provider's own shape, so SDKs surface our message as they would theirs. */
/**
 * An error in the provider's own shape, so SDKs show it as they show the provider's. `code` is
 * Tether's refusal code (refusals.ts), also sent as `error.tether_code` for tools that read bodies.
 */
export function providerErrorBody(shape: ErrorShape, status: number, kind: ErrorKind, message: string, code?: string): unknown {
  const full = `tether: ${message}`;
  const ours = code === undefined ? {} : { tether_code: code };
  switch (shape) {
    case 'anthropic':
      return { type: 'error', error: { type: anthropicType(kind), message: full, ...ours } };
    case 'gemini':
      return { error: { code: status, message: full, status: geminiStatus(kind), ...ours } };
    case 'openai':
      return { error: { message: full, type: openaiType(kind), code: kind === 'authentication' ? 'invalid_api_key' : null, param: null, ...ours } };
  }
}

function anthropicType(kind: ErrorKind): string {
  return {
    authentication: 'authentication_error',
    permission: 'permission_error',
    unavailable: 'overloaded_error',
    'bad-request': 'invalid_request_error',
    'not-found': 'not_found_error',
    upstream: 'api_error',
    timeout: 'timeout_error',
  }[kind];
}

function openaiType(kind: ErrorKind): string {
  return {
    authentication: 'invalid_request_error',
    permission: 'invalid_request_error',
    unavailable: 'server_error',
    'bad-request': 'invalid_request_error',
    'not-found': 'invalid_request_error',
    upstream: 'server_error',
    timeout: 'server_error',
  }[kind];
}

function geminiStatus(kind: ErrorKind): string {
  return {
    authentication: 'UNAUTHENTICATED',
    permission: 'PERMISSION_DENIED',
    unavailable: 'UNAVAILABLE',
    'bad-request': 'INVALID_ARGUMENT',
    'not-found': 'NOT_FOUND',
    upstream: 'INTERNAL',
    timeout: 'DEADLINE_EXCEEDED',
  }[kind];
}
