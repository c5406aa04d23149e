/**
 * What Tether knows about each provider: where its API lives, how its clients send a key,
 * which environment variables those clients read, and how its errors look (so the proxy's
 * own 401s read like the provider's). Pure data, shared by both sides.
 */

export type ErrorShape = 'openai' | 'anthropic' | 'gemini';
export type KeyHeader = 'authorization' | 'x-api-key' | 'x-goog-api-key' | 'api-key';

export interface ProviderSpec {
  id: string;
  title: string;
  defaultBaseUrl: string;
  /** How the real key is sent upstream. */
  keyHeader: KeyHeader;
  /** Prefix before the key in that header, e.g. `Bearer `. */
  keyPrefix: string;
  errorShape: ErrorShape;
  /** Variables the usual clients read; baseUrl gets the proxy URL plus `baseUrlSuffix`. */
  env: { apiKey: string[]; baseUrl: string[]; baseUrlSuffix: string };
}

export const PROVIDERS: Readonly<Record<string, ProviderSpec>> = {
  openai: {
    id: 'openai',
    title: 'OpenAI',
    defaultBaseUrl: 'https://api.openai.com',
    keyHeader: 'authorization',
    keyPrefix: 'Bearer ',
    errorShape: 'openai',
    env: { apiKey: ['OPENAI_API_KEY'], baseUrl: ['OPENAI_BASE_URL'], baseUrlSuffix: '/v1' },
  },
  anthropic: {
    id: 'anthropic',
    title: 'Anthropic',
    defaultBaseUrl: 'https://api.anthropic.com',
    keyHeader: 'x-api-key',
    keyPrefix: '',
    errorShape: 'anthropic',
    env: { apiKey: ['ANTHROPIC_API_KEY'], baseUrl: ['ANTHROPIC_BASE_URL'], baseUrlSuffix: '' },
  },
};

export function providerSpec(id: string): ProviderSpec | undefined {
  return Object.hasOwn(PROVIDERS, id) ? PROVIDERS[id] : undefined;
}

/** Headers in which clients put a key; the proxy takes the lease from any and strips them all. */
export const KEY_HEADERS: readonly KeyHeader[] = ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key'];

export type ErrorKind = 'authentication' | 'permission' | 'unavailable' | 'bad-request' | 'not-found' | 'upstream';

/** An error body in the provider's own shape, so SDKs surface our message as they would theirs. */
export function providerErrorBody(shape: ErrorShape, status: number, kind: ErrorKind, message: string): unknown {
  const full = `tether: ${message}`;
  switch (shape) {
    case 'anthropic':
      return { type: 'error', error: { type: anthropicType(kind), message: full } };
    case 'gemini':
      return { error: { code: status, message: full, status: geminiStatus(kind) } };
    case 'openai':
      return { error: { message: full, type: openaiType(kind), code: kind === 'authentication' ? 'invalid_api_key' : null, param: null } };
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
  }[kind];
}
