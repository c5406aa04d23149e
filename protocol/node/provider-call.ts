import http from 'node:http';
import https from 'node:https';
import { KEY_HEADERS, endToEndHeaders } from '../index.js';

/**
 * The call to a provider, made by the agent (relay mode) and by the daemon (forward mode):
 * one keep-alive pool per scheme and process, the same header merge, and the same rule for
 * a provider that stalls: no progress (connecting, each body chunk sent, then the wait
 * itself) for the timeout before its response headers → the caller answers 504. Once the
 * answer streams, only the client decides when to give up.
 */

/** How long a provider may make no progress before its response headers, unless told otherwise. */
export const DEFAULT_PROVIDER_HEAD_TIMEOUT_MS = 60_000;

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

const KEY_HEADER_SET = new Set<string>(KEY_HEADERS);

/**
 * The headers sent to the provider: the relayed ones minus key and hop-by-hop headers, merged
 * by lower-case name (repeats become a list, in order); the provider's required headers where
 * the client sent none; then the key.
 */
export function providerRequestHeaders(
  relayed: readonly (readonly [string, string])[],
  required: Readonly<Record<string, string>>,
  keyHeader: string,
  keyValue: string,
): http.OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of endToEndHeaders(relayed)) {
    const name = rawName.toLowerCase();
    if (KEY_HEADER_SET.has(name)) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  for (const [name, value] of Object.entries(required)) out[name] ??= value;
  out[keyHeader] = keyValue;
  return out;
}

export interface ProviderRequest {
  readonly req: http.ClientRequest;
  /** Progress before the response headers (a body chunk handed over): the stall timer starts over. */
  progress(): void;
  /** The request was destroyed because the provider stalled before its headers. */
  readonly timedOut: boolean;
}

/** Starts the request; undefined for a scheme other than http: and https:. */
export function requestProvider(url: URL, method: string, headers: http.OutgoingHttpHeaders, timeoutMs: number): ProviderRequest | undefined {
  const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined;
  if (!agent) return undefined;
  const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent });
  let answered = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    req.destroy(new Error('upstream timeout'));
  }, timeoutMs);
  const progress = (): void => {
    if (!answered && !timedOut) timer.refresh();
  };
  req.once('finish', progress);
  req.once('response', () => {
    answered = true;
    clearTimeout(timer);
  });
  req.once('close', () => clearTimeout(timer));
  return {
    req,
    progress,
    get timedOut() {
      return timedOut;
    },
  };
}

/** The 504's sentence. */
export function stalledMessage(host: string, timeoutMs: number): string {
  return `${host} did not answer within ${timeoutMs < 10_000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`;
}
