import { LEASE_ID_PATTERN } from './encoding.js';
import { RelayOpen, type RelayAbort, type RelayHead } from './relay.js';

/**
 * Hand-written checks for the messages every relayed request carries (relay.open,
 * relay.head, relay.abort): zod costs several µs per message on the hot path. Each check
 * accepts only what the zod schema in relay.ts accepts and returns what zod would return:
 * known keys only, unknown ones dropped (the header pairs are JSON.parse's own fresh arrays
 * of exactly two strings, so they are kept, not copied). Anything it does not accept goes
 * on to zod, which decides and reports the error in its own words; hot-messages.test.ts
 * holds the two against each other. Lengths are checked in UTF-16 units: zod counts code
 * points (never more than units), so a string within the limit in units is within it for
 * zod too, and a longer one is left to zod. Keep these in step with relay.ts.
 */
export type HotMessage = RelayOpen | RelayHead | RelayAbort;

const METHODS: ReadonlySet<unknown> = new Set(RelayOpen.shape.method.options);
const MAX_HEADERS = 256;
const MAX_HEADER_NAME = 256;
const MAX_HEADER_VALUE = 16 * 1024;
const MAX_PATH = 8192;
const MAX_REASON = 300;

function isStreamId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 0xffffffff;
}

function isHeaderList(v: unknown): v is [string, string][] {
  if (!Array.isArray(v) || v.length > MAX_HEADERS) return false;
  for (let i = 0; i < v.length; i++) {
    const pair: unknown = v[i];
    if (!Array.isArray(pair) || pair.length !== 2) return false;
    const name: unknown = pair[0];
    const value: unknown = pair[1];
    if (typeof name !== 'string' || name.length < 1 || name.length > MAX_HEADER_NAME) return false;
    if (typeof value !== 'string' || value.length > MAX_HEADER_VALUE) return false;
  }
  return true;
}

/** `raw` is a parsed JSON object whose `t` is `tag`; undefined = "let zod decide". */
export function decodeHotMessage(tag: string, raw: Record<string, unknown>): HotMessage | undefined {
  if (raw.t !== tag) return undefined;
  switch (tag) {
    case 'relay.open': {
      const { sid, leaseId, method, path, headers } = raw;
      // A subscription request's caller is rare enough to leave to zod.
      if (raw.caller !== undefined) return undefined;
      if (!isStreamId(sid) || typeof leaseId !== 'string' || !LEASE_ID_PATTERN.test(leaseId) || !METHODS.has(method)) return undefined;
      if (typeof path !== 'string' || !path.startsWith('/') || path.length > MAX_PATH || !isHeaderList(headers)) return undefined;
      return { t: 'relay.open', sid, leaseId, method: method as RelayOpen['method'], path, headers };
    }
    case 'relay.head': {
      const { sid, status, headers } = raw;
      if (!isStreamId(sid) || typeof status !== 'number' || !Number.isSafeInteger(status) || status < 100 || status > 599 || !isHeaderList(headers)) return undefined;
      return { t: 'relay.head', sid, status, headers };
    }
    case 'relay.abort': {
      const { sid, reason } = raw;
      if (!isStreamId(sid) || typeof reason !== 'string' || reason.length > MAX_REASON) return undefined;
      return { t: 'relay.abort', sid, reason };
    }
    default:
      return undefined;
  }
}
