import { KEY_HEADERS, LEASE_TOKEN_PATTERN } from '../protocol/index.js';

/** Headers that describe one hop, never the message (RFC 9110 §7.6.1), plus our own hint. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'x-tether-pid',
]);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

const KEY_HEADER_SET = new Set<string>(KEY_HEADERS);

/**
 * Request headers as they go to the laptop: no key headers (they carry our lease token),
 * no hop-by-hop headers, nor any the client listed in `Connection`. content-length stays:
 * the body is relayed byte for byte; a chunked body simply arrives without one.
 */
export function relayRequestHeaders(rawHeaders: readonly string[]): [string, string][] {
  const named = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') {
      for (const token of (rawHeaders[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: [string, string][] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    if (!name || KEY_HEADER_SET.has(lower) || isHopByHop(lower) || named.has(lower)) continue;
    out.push([name, rawHeaders[i + 1] ?? '']);
  }
  return out;
}

/** Response headers from the laptop, as a flat list for res.writeHead; Node frames the body itself. */
export function relayResponseHeaders(headers: readonly (readonly [string, string])[]): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (isHopByHop(lower) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) continue;
    out.push(name, value);
  }
  return out;
}

/**
 * The lease token from wherever this provider's clients put a key. Some clients send a
 * placeholder in a second key header, so a value shaped like a lease token wins.
 */
export function leaseTokenFrom(headers: Record<string, string | string[] | undefined>): string | undefined {
  const candidates: string[] = [];
  for (const name of KEY_HEADERS) {
    const raw = headers[name];
    let value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (value && name === 'authorization') value = /^bearer\s+(\S+)$/i.exec(value)?.[1];
    if (value) candidates.push(value);
  }
  return candidates.find((c) => LEASE_TOKEN_PATTERN.test(c)) ?? candidates[0];
}
